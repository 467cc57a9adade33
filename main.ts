/**
 * waspd entry point: run the CLI and map its outcome to an exit code.
 * Everything else lives in src/; this file only binds real stdout/stderr.
 */
import { runCli } from "./src/cli.ts";
import { handlers } from "./src/app.ts";

const encoder = new TextEncoder();
const io = {
  out: (text: string) => void Deno.stdout.writeSync(encoder.encode(text)),
  err: (text: string) => void Deno.stderr.writeSync(encoder.encode(text)),
};

if (import.meta.main) {
  try {
    Deno.exitCode = await runCli(Deno.args, handlers, io);
  } catch (error) {
    io.err(`waspd: ${error instanceof Error ? error.message : String(error)}\n`);
    Deno.exitCode = 1;
  }
}
