/**
 * waspd entry point: run the CLI with the real stdout/stderr and map its
 * outcome to an exit code; everything else lives in src/.
 *
 * A hidden first argument runs the prctl helper instead: prctl(100) on another
 * process can block forever, so waspd makes that call in a long-lived copy of
 * itself (see src/sys/mitosis/prctl_helper.ts and docs/kernel-interface.md).
 */
import { runCli } from "./src/cli.ts";
import { handlers } from "./src/app.ts";
import { PRCTL_HELPER_FLAG } from "./src/sys/mitosis/prctl_protocol.ts";
import { runPrctlHelper } from "./src/sys/mitosis/prctl_helper.ts";

const encoder = new TextEncoder();
const io = {
  out: (text: string) => void Deno.stdout.writeSync(encoder.encode(text)),
  err: (text: string) => void Deno.stderr.writeSync(encoder.encode(text)),
};

if (import.meta.main) {
  if (Deno.args[0] === PRCTL_HELPER_FLAG) {
    Deno.exit(await runPrctlHelper());
  }
  try {
    Deno.exitCode = await runCli(Deno.args, handlers, io);
  } catch (error) {
    io.err(`waspd: ${error instanceof Error ? error.message : String(error)}\n`);
    Deno.exitCode = 1;
  }
}
