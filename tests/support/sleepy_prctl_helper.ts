/**
 * A stand-in for the prctl helper that plays a call stuck in the kernel: it
 * speaks the helper protocol (src/sys/mitosis/prctl_protocol.ts), says
 * "ready", and for each request says "begin", waits the milliseconds given as
 * its first argument, then makes the real prctl(100) and says "done". Like the
 * real helper, it exits once its input has ended and no call is under way.
 *
 * Tests start it through PrctlClient's `launch` seam (sleepyHelper below), so
 * the shipped helper carries no way to be told to stall.
 */
import {
  encodeMessage,
  type HelperMessage,
  parseRequest,
} from "../../src/sys/mitosis/prctl_protocol.ts";
import { type HelperLauncher, spawnHelper } from "../../src/sys/mitosis/prctl_spawn.ts";
import { PR_SET_PGTABLE_REPL } from "../../src/core/prctl.ts";
import { SyscallError } from "../../src/ffi/errno.ts";
import { libc } from "../../src/ffi/libc.ts";
import { lines } from "../../src/sys/stream_lines.ts";

/** Launches this stand-in: each call begins, then waits `sleepMs` before the real call. */
export function sleepyHelper(sleepMs: number): HelperLauncher {
  const path = new URL(import.meta.url).pathname;
  return () => spawnHelper(Deno.execPath(), ["run", "-A", "--no-config", path, String(sleepMs)]);
}

async function main(sleepMs: number): Promise<void> {
  const encoder = new TextEncoder();
  const send = (message: HelperMessage) => {
    try {
      Deno.stdout.writeSync(encoder.encode(encodeMessage(message)));
    } catch {
      Deno.exit(0); // the client is gone
    }
  };
  libc();
  send({ type: "ready", pid: Deno.pid });
  let inflight = 0;
  let inputEnded = false;
  for await (const line of lines(Deno.stdin.readable)) {
    const request = parseRequest(line);
    if (typeof request === "string") continue;
    inflight++;
    send({ type: "begin", id: request.id });
    setTimeout(() => {
      try {
        const rc = libc().prctl(PR_SET_PGTABLE_REPL, request.mask, request.pid);
        send({ type: "done", id: request.id, rc, errno: 0 });
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
        send({ type: "done", id: request.id, rc: -1, errno: error.errno });
      }
      inflight--;
      if (inputEnded && inflight === 0) Deno.exit(0);
    }, sleepMs);
  }
  inputEnded = true;
  if (inflight === 0) Deno.exit(0);
}

if (import.meta.main) await main(Number(Deno.args[0] ?? "0"));
