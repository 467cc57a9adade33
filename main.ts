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
import { OutputClosed, readFd, stdio as io, stdoutWasClosed } from "./src/sys/stdio.ts";
import { sanitizeLine } from "./src/ui/sanitize.ts";
import { errorMessage } from "./src/core/error_message.ts";

if (import.meta.main) {
  if (Deno.args[0] === PRCTL_HELPER_FLAG) {
    Deno.exit(await runPrctlHelper());
  }
  if (stdoutWasClosed(readFd(1), readFd(2))) {
    // Everything waspd prints would vanish: say so rather than exit 0.
    io.err("waspd: stdout is closed: nothing to print the output to\n");
    Deno.exit(1);
  }
  try {
    Deno.exitCode = await runCli(Deno.args, handlers, io);
  } catch (error) {
    // A reader that went away (`waspd probe | head -1`) ends waspd quietly.
    if (error instanceof OutputClosed) Deno.exitCode = 0;
    else {
      io.err(sanitizeLine(`waspd: ${errorMessage(error)}`));
      Deno.exitCode = 1;
    }
  }
  // Last: whatever is still queued for a reader gets a short, bounded time.
  await io.finish();
}
