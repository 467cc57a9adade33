/**
 * One call thread of the prctl helper (a Worker): it loads libc at once, says
 * "loaded", then makes exactly one prctl(100, mask, pid) when asked, bracketed
 * by "begin" and "done" messages, and closes. One thread per call because a
 * call on a target that does not run blocks its thread uninterruptibly (a
 * JavaScript thread cannot be interrupted in a foreign call): the helper hands
 * the next call to a fresh thread instead of waiting.
 */
/// <reference lib="deno.worker" />
import { SyscallError } from "../../ffi/errno.ts";
import { libc } from "../../ffi/libc.ts";
import { PR_SET_PGTABLE_REPL } from "../../core/prctl.ts";
import { errorMessage } from "../../core/error_message.ts";

/** What the helper sends this thread, and what it answers. */
export type ThreadRequest = { id: number; mask: number; pid: number };
export type ThreadMessage =
  | { type: "loaded" }
  | { type: "begin"; id: number }
  | { type: "done"; id: number; rc: number; errno: number }
  | { type: "failed"; id: number; message: string };

function post(message: ThreadMessage): void {
  self.postMessage(message);
}

libc(); // dlopen now, so that "begin" is followed by the call itself
post({ type: "loaded" });

self.onmessage = (event: MessageEvent<ThreadRequest>) => {
  const { id, mask, pid } = event.data;
  post({ type: "begin", id });
  try {
    const rc = libc().prctl(PR_SET_PGTABLE_REPL, mask, pid);
    post({ type: "done", id, rc, errno: 0 });
  } catch (error) {
    if (error instanceof SyscallError) {
      post({ type: "done", id, rc: -1, errno: error.errno });
    } else {
      post({ type: "failed", id, message: errorMessage(error) });
    }
  }
  self.close();
};
