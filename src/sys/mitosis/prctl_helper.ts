/**
 * The prctl helper: a copy of waspd (started with a hidden flag) that makes
 * prctl(100) calls for the daemon and the manual commands, kept while calls
 * come and retired by the client when they stop (prctl_client.ts).
 *
 * Why a separate process: prctl(100) on another process blocks the calling
 * thread uninterruptibly until the target runs (forever on a stopped one).
 * waspd must survive that and exit whatever happens, and a process can always
 * leave a helper behind, while it cannot leave one of its own threads.
 * Why kept between calls: starting a Deno process takes seconds on a loaded
 * machine; a helper reporting "ready" lets the caller's deadline time the
 * kernel call only.
 *
 * Protocol (prctl_protocol.ts): request lines on stdin, messages on stdout.
 * Each call runs on its own Worker (prctl_thread.ts), prepared one call ahead
 * so that a request is served at once. On end of input it exits as soon as no
 * call is under way (a call stuck in the kernel keeps it until it returns).
 */
import {
  encodeMessage,
  type HelperMessage,
  parseRequest,
  type PrctlRequest,
} from "./prctl_protocol.ts";
import type { ThreadMessage } from "./prctl_thread.ts";
import { lines } from "../stream_lines.ts";

interface CallThread {
  worker: Worker;
  /** Resolves true once the thread has libc loaded, false if it died first. */
  loaded: Promise<boolean>;
}

function startThread(): CallThread {
  const worker = new Worker(new URL("./prctl_thread.ts", import.meta.url), { type: "module" });
  const loaded = new Promise<boolean>((resolve) => {
    worker.onmessage = (event: MessageEvent<ThreadMessage>) => {
      if (event.data.type === "loaded") resolve(true);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      console.error(`prctl helper: call thread failed to start: ${event.message}`);
      resolve(false);
    };
  });
  return { worker, loaded };
}

/**
 * The signals a terminal or a service manager sends to waspd's whole process
 * group (Ctrl-C, `timeout`, a closed terminal). They are waspd's to act on:
 * a helper killed by them would leave the undo on exit to start a fresh one.
 * The helper exits when waspd closes its input, or by SIGKILL.
 */
export const HELPER_IGNORED_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Run the helper until its input ends; returns the exit code. */
export async function runPrctlHelper(): Promise<number> {
  for (const signal of HELPER_IGNORED_SIGNALS) Deno.addSignalListener(signal, () => {});
  const encoder = new TextEncoder();
  const send = (message: HelperMessage) => {
    try {
      Deno.stdout.writeSync(encoder.encode(encodeMessage(message)));
    } catch {
      // waspd is gone (closed pipe): nobody to answer; the kernel call has run anyway.
      Deno.exit(0);
    }
  };
  let spare = startThread();
  if (!(await spare.loaded)) return 1;
  send({ type: "ready", pid: Deno.pid });

  let inflight = 0;
  let inputEnded = false;
  const serve = async (thread: CallThread, request: PrctlRequest) => {
    inflight++;
    const finish = () => {
      thread.worker.terminate();
      inflight--;
      if (inputEnded && inflight === 0) Deno.exit(0);
    };
    if (!(await thread.loaded)) {
      send({ type: "failed", id: request.id, message: "the call thread did not start" });
      return finish();
    }
    thread.worker.onmessage = (event: MessageEvent<ThreadMessage>) => {
      const m = event.data;
      if (m.type === "loaded") return;
      send(m);
      if (m.type !== "begin") finish();
    };
    thread.worker.onerror = (event) => {
      event.preventDefault();
      send({ type: "failed", id: request.id, message: event.message });
      finish();
    };
    thread.worker.postMessage(request);
  };

  for await (const line of lines(Deno.stdin.readable)) {
    if (line.trim() === "") continue;
    const request = parseRequest(line);
    if (typeof request === "string") {
      console.error(`prctl helper: request refused: ${request}`);
      continue;
    }
    const thread = spare;
    spare = startThread(); // the next call's thread loads while this one runs
    void serve(thread, request);
  }
  inputEnded = true;
  spare.worker.terminate();
  if (inflight === 0) return 0;
  // A call under way finishes (and answers) first; finish() exits then.
  return await new Promise<number>(() => {});
}

if (import.meta.main) Deno.exit(await runPrctlHelper());
