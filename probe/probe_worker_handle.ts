/**
 * The main-thread side of one probe worker: start it, wait until it is ready,
 * send one row request at a time, and always terminate it (terminate() is
 * safe twice; with `using handle = new ProbeWorkerHandle()` it ends with the
 * scope). Turns a worker crash, a silent worker and an abort into rejected
 * promises with a reason.
 */
import type { RowReply, RowRequest, WorkerReply } from "./protocol.ts";

export const WORKER_URL = new URL("./worker.ts", import.meta.url);

export class ProbeWorkerHandle implements Disposable {
  readonly #worker: Worker;
  #pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;
  #failure: Error | null = null;
  #terminated = false;
  readonly #ready: Promise<void>;

  constructor(url: URL = WORKER_URL) {
    this.#worker = new Worker(url, { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const pending = this.#pending;
      this.#pending = null;
      pending?.resolve(event.data);
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      // Without preventDefault an uncaught worker error takes the daemon down.
      event.preventDefault();
      this.#fail(new Error(`probe worker crashed: ${event.message}`));
    };
    this.#worker.onmessageerror = () =>
      this.#fail(new Error("probe worker sent an unreadable message"));
    this.#ready = this.#next(60_000, "start").then((reply) => {
      if (reply.kind !== "ready") {
        throw new Error(`probe worker: expected ready, got ${reply.kind}`);
      }
    });
    // A failed start is reported by ready(); never an unhandled rejection here.
    this.#ready.catch(() => {});
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const pending = this.#pending;
    this.#pending = null;
    pending?.reject(error);
  }

  /** The next reply, or a rejection after `timeoutMs` (the timer never outlives the wait). */
  #next(timeoutMs: number, what: string): Promise<WorkerReply> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    if (this.#pending !== null) return Promise.reject(new Error("probe worker is busy"));
    return new Promise<WorkerReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new Error(`probe worker: no answer to ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** False once it crashed, timed out or was terminated: it must not be reused. */
  get healthy(): boolean {
    return this.#failure === null && !this.#terminated;
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  async measureRow(request: RowRequest, timeoutMs: number): Promise<RowReply> {
    const answer = this.#next(timeoutMs, `row ${request.row}`);
    this.#worker.postMessage(request);
    const reply = await answer;
    if (reply.kind !== "row") throw new Error(`probe worker: expected a row, got ${reply.kind}`);
    return reply;
  }

  /** Stop the thread. Safe to call twice; rejects a request still waiting. */
  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#worker.terminate();
    this.#fail(new Error("probe worker terminated"));
  }

  [Symbol.dispose](): void {
    this.terminate();
  }
}
