/**
 * The probe workers of a LinuxProber, one per row node. The pool owns them:
 * a worker leaves it only terminated, and closing the pool (or disposing it)
 * terminates every one, however often it is called.
 *
 * Use: `using pool = new ProbeWorkerPool()` for one measurement, or keep it
 * (LinuxProber does, with keepWorkers) and close() it.
 */
import { ProbeWorkerHandle, WORKER_URL } from "./probe_worker_handle.ts";

export class ProbeWorkerPool implements Disposable {
  readonly #url: URL;
  readonly #workers = new Map<number, ProbeWorkerHandle>();

  constructor(url: URL = WORKER_URL) {
    this.#url = url;
  }

  /** How many workers are alive (started and not terminated). */
  get size(): number {
    return this.#workers.size;
  }

  /**
   * Make the pool hold one healthy worker for each of `nodes` and none for any
   * other node: workers of nodes that are no longer rows (CPUs offlined) and
   * broken ones are terminated; missing ones are started together, so their
   * start-up (mostly module loading) overlaps.
   */
  serve(nodes: ReadonlySet<number>): void {
    for (const [node, handle] of this.#workers) {
      if (!nodes.has(node) || !handle.healthy) {
        handle.terminate();
        this.#workers.delete(node);
      }
    }
    for (const node of nodes) {
      if (!this.#workers.has(node)) this.#workers.set(node, new ProbeWorkerHandle(this.#url));
    }
  }

  get(node: number): ProbeWorkerHandle | undefined {
    return this.#workers.get(node);
  }

  /** Terminate every worker. Safe to call twice; the pool can serve again afterwards. */
  close(): void {
    for (const handle of this.#workers.values()) handle.terminate();
    this.#workers.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
