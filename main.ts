/**
 * waspd entry point: run the CLI with the real stdout/stderr and map its
 * outcome to an exit code; everything else lives in src/.
 *
 * A hidden first argument runs the prctl child instead: prctl(100) on another
 * process blocks until that process runs, forever on a stopped one, so the
 * daemon makes that call in a short-lived copy of itself (see
 * src/sys/mitosis/prctl_child.ts and docs/kernel-interface.md).
 */
import { runCli } from "./src/cli.ts";
import { handlers } from "./src/app.ts";
import { PRCTL_CHILD_FLAG, runPrctlChild } from "./src/sys/mitosis/prctl_child.ts";

const encoder = new TextEncoder();
const io = {
  out: (text: string) => void Deno.stdout.writeSync(encoder.encode(text)),
  err: (text: string) => void Deno.stderr.writeSync(encoder.encode(text)),
};

if (import.meta.main) {
  if (Deno.args[0] === PRCTL_CHILD_FLAG) {
    Deno.exit(runPrctlChild(Deno.args.slice(1)));
  }
  try {
    Deno.exitCode = await runCli(Deno.args, handlers, io);
  } catch (error) {
    io.err(`waspd: ${error instanceof Error ? error.message : String(error)}\n`);
    Deno.exitCode = 1;
  }
}
