/**
 * The child-process side of prctl(100, mask, pid). Enabling replication for
 * another process blocks the calling thread uninterruptibly until the target
 * runs, forever on a stopped target (docs/kernel-interface.md): so the daemon never makes
 * that call itself. It starts this short-lived process, which makes the one
 * call and prints one JSON line `{"rc":0,"errno":0,"code":"OK"}`; the parent
 * gives up after a deadline and this process is left to the kernel.
 *
 * Arguments: `set-replication <mask> <pid> [--test-sleep-ms N]`. The sleep
 * (a blocking wait, like the kernel's) exists so tests can play a stuck call
 * on a stock kernel.
 */
import { PR_SET_PGTABLE_REPL } from "../../core/prctl.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { libc } from "../../ffi/libc.ts";

/** Hidden first argument of a compiled waspd binary that makes it run this child. */
export const PRCTL_CHILD_FLAG = "__prctl-child";

export interface PrctlChildResult {
  rc: number;
  errno: number;
  code: string;
}

export interface PrctlChildRequest {
  mask: number;
  pid: number;
  testSleepMs: number;
}

/** Parse the child's arguments; a string is the usage error. Pure. */
export function parsePrctlChildArgs(args: readonly string[]): PrctlChildRequest | string {
  const [op, maskText, pidText, ...rest] = args;
  if (op !== "set-replication") return `unknown operation ${JSON.stringify(op)}`;
  const mask = Number(maskText);
  const pid = Number(pidText);
  if (!/^\d+$/.test(maskText ?? "") || !Number.isSafeInteger(mask)) return `bad mask ${maskText}`;
  if (!/^\d+$/.test(pidText ?? "") || !Number.isSafeInteger(pid)) return `bad pid ${pidText}`;
  let testSleepMs = 0;
  if (rest.length > 0) {
    if (rest[0] !== "--test-sleep-ms" || !/^\d+$/.test(rest[1] ?? "") || rest.length !== 2) {
      return `unexpected arguments ${rest.join(" ")}`;
    }
    testSleepMs = Number(rest[1]);
  }
  return { mask, pid, testSleepMs };
}

/** Block this thread (no event loop turn), as the kernel call would. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Run the child: make the call, print the JSON line, return the exit code. */
export function runPrctlChild(args: readonly string[]): number {
  const request = parsePrctlChildArgs(args);
  const print = (result: PrctlChildResult) => console.log(JSON.stringify(result));
  if (typeof request === "string") {
    console.error(`prctl child: ${request}`);
    return 2;
  }
  if (request.testSleepMs > 0) blockFor(request.testSleepMs);
  try {
    const rc = libc().prctl(PR_SET_PGTABLE_REPL, request.mask, request.pid);
    print({ rc, errno: 0, code: "OK" });
  } catch (error) {
    if (!(error instanceof SyscallError)) {
      console.error(`prctl child: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
    print({ rc: -1, errno: error.errno, code: error.code });
  }
  return 0;
}

if (import.meta.main) Deno.exit(runPrctlChild(Deno.args));
