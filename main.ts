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
/**
 * One buffer for every write, grown when a text needs more: a --json line of
 * 2000 processes is ~700 KB, and a fresh array for each was external memory
 * that only a major GC gave back (several MB of RSS between two).
 */
let buffer = new Uint8Array(64 * 1024);

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  // UTF-8 needs at most 3 bytes per UTF-16 unit.
  if (buffer.length < text.length * 3) buffer = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, buffer);
  // writeSync may write less than asked (a pipe): loop until all of it is out.
  for (let at = 0; at < written;) at += file.writeSync(buffer.subarray(at, written));
}

const io = {
  out: (text: string) => writeAll(Deno.stdout, text),
  err: (text: string) => writeAll(Deno.stderr, text),
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
