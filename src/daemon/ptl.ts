/**
 * Schedules PTL latency measurements in the background: one every interval
 * and one on demand, never two at once, never awaited by the tick loop (a
 * measurement runs pinned Workers for tens of ms to seconds).
 */
import type { Clock, Prober } from "../host.ts";
import type { PtlMeasurement, Topology } from "../core/types.ts";

export interface PtlSchedulerOptions {
  prober: Prober;
  clock: Clock;
  intervalMs: number;
  /** Fresh topology for each measurement: buffer sizes follow free memory. */
  topology: () => Promise<Topology>;
  /** Called with each finished measurement (or the error that ended one). */
  onResult: (result: { measurement: PtlMeasurement } | { error: string }) => void;
}

export class PtlScheduler {
  readonly #opts: PtlSchedulerOptions;
  readonly #abort = new AbortController();
  #inflight: Promise<void> | null = null;
  #lastStartMs = Number.NEGATIVE_INFINITY;
  #forced = false;

  constructor(opts: PtlSchedulerOptions) {
    this.#opts = opts;
  }

  get measuring(): boolean {
    return this.#inflight !== null;
  }

  /** Ask for a measurement as soon as the current one (if any) ends. */
  requestNow(): void {
    this.#forced = true;
  }

  /** Start a measurement if one is due and none is running. Returns at once. */
  poll(): void {
    if (this.#inflight !== null || this.#abort.signal.aborted) return;
    const now = this.#opts.clock.now();
    if (!this.#forced && now - this.#lastStartMs < this.#opts.intervalMs) return;
    this.#forced = false;
    this.#lastStartMs = now;
    this.#inflight = this.#measure().finally(() => {
      this.#inflight = null;
    });
  }

  async #measure(): Promise<void> {
    try {
      const topology = await this.#opts.topology();
      const measurement = await this.#opts.prober.measure(topology, {
        signal: this.#abort.signal,
      });
      if (!this.#abort.signal.aborted) this.#opts.onResult({ measurement });
    } catch (error) {
      if (!this.#abort.signal.aborted) {
        this.#opts.onResult({ error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /** Resolves when no measurement is running (at once if none is). */
  async idle(): Promise<void> {
    await this.#inflight;
  }

  /** Abort a running measurement and wait for its workers to end. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#inflight;
  }
}
