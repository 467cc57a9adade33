/**
 * An AbortSignal as a probe worker can see it: one Int32 in shared memory,
 * set to 1 when the signal aborts. A worker busy chasing cannot receive
 * messages, so it polls this flag between rounds. The flag owns its listener
 * on the signal: disposing it removes the listener, so a long-lived signal
 * (the daemon's) does not gather one per measurement.
 *
 * Use: `using flag = new SharedAbortFlag(signal)` around the rows it covers.
 */
export class SharedAbortFlag implements Disposable {
  /** Sent to the workers with each row request. */
  readonly buffer = new SharedArrayBuffer(4);
  readonly #signal: AbortSignal | undefined;
  readonly #raise = () => Atomics.store(new Int32Array(this.buffer), 0, 1);

  constructor(signal?: AbortSignal) {
    this.#signal = signal;
    if (signal?.aborted) this.#raise();
    else signal?.addEventListener("abort", this.#raise, { once: true });
  }

  get raised(): boolean {
    return Atomics.load(new Int32Array(this.buffer), 0) !== 0;
  }

  [Symbol.dispose](): void {
    this.#signal?.removeEventListener("abort", this.#raise);
  }
}
