/**
 * Schedules PTL latency measurements in the background, never two at once,
 * never awaited by the tick loop:
 * - a budgeted light refresh, due every interval (-i), re-measuring as many
 *   cells as the CPU budget allows (ptl_budget.ts) with the host's refresher;
 * - the full chase on demand (`r`), at full accuracy, outside the budget.
 */
import type { Clock, Prober, PtlRefresher } from "../host.ts";
import type { PtlCell, PtlMeasurement, PtlMethod, Topology } from "../core/types.ts";
import {
  type BudgetConfig,
  type BudgetReport,
  budgetReport,
  type BudgetState,
  chargeRefresh,
  initialBudget,
  planRefresh,
} from "./ptl_budget.ts";
import { cellsOf, mergeFigures } from "./ptl_matrix.ts";
import { errorMessage } from "../core/error_message.ts";

export interface PtlBudgetOptions {
  /** Share of one core, e.g. 0.01. */
  cpuFraction: number;
  /** Memory the refresher may keep mapped, bytes. */
  memoryBytes: number;
}

/** A finished measurement: the matrix, how it was taken, how the refresh keeps up. */
export interface PtlMeasured {
  measurement: PtlMeasurement;
  method: PtlMethod;
  budget: BudgetReport | null;
}

export type PtlResult = PtlMeasured | { error: string };

export interface PtlSchedulerOptions {
  prober: Prober;
  refresher: PtlRefresher;
  clock: Clock;
  intervalMs: number;
  budget: PtlBudgetOptions;
  /** Fresh topology for each refresh: nodes and free memory move. */
  topology: () => Promise<Topology>;
  /** Called with each finished measurement (or the error that ended one). */
  onResult: (result: PtlResult) => void;
}

export class PtlScheduler {
  readonly #opts: PtlSchedulerOptions;
  readonly #abort = new AbortController();
  #config: BudgetConfig;
  #memoryBytes: number;
  #budget: BudgetState = initialBudget();
  #waitUntilMs = Number.NEGATIVE_INFINITY;
  #cells: PtlCell[] | null = null;
  #matrix: PtlMeasurement | null = null;
  #inflight: Promise<void> | null = null;
  #forced = false;

  constructor(opts: PtlSchedulerOptions) {
    this.#opts = opts;
    this.#config = { cpuFraction: opts.budget.cpuFraction, intervalMs: opts.intervalMs };
    this.#memoryBytes = opts.budget.memoryBytes;
  }

  /**
   * A new interval and budget (a reloaded configuration): the next plan uses
   * them, the refresh under way (if any) finishes as it began.
   */
  reconfigure(intervalMs: number, budget: PtlBudgetOptions): void {
    this.#config = { cpuFraction: budget.cpuFraction, intervalMs };
    this.#memoryBytes = budget.memoryBytes;
    // A wait planned on the old interval would hold a shorter one back.
    this.#waitUntilMs = Number.NEGATIVE_INFINITY;
  }

  get measuring(): boolean {
    return this.#inflight !== null;
  }

  /** Ask for a full measurement as soon as the current one (if any) ends. */
  requestNow(): void {
    this.#forced = true;
  }

  /** How the refresh keeps up under the budget (null until a cell's cost is known). */
  get report(): BudgetReport | null {
    return this.#cells === null
      ? null
      : budgetReport(this.#budget, this.#config, this.#cells.length);
  }

  /** Start what is due, if nothing is running. Returns at once. */
  poll(): void {
    if (this.#inflight !== null || this.#abort.signal.aborted) return;
    const now = this.#opts.clock.now();
    if (this.#forced) {
      this.#forced = false;
      this.#run(this.#full());
      return;
    }
    if (now < this.#waitUntilMs) return;
    // Before the first refresh the cells are unknown: the topology read decides them.
    const { plan, state } = planRefresh(this.#budget, this.#config, this.#cells?.length ?? 1, now);
    if (plan.kind === "wait") {
      this.#waitUntilMs = plan.untilMs;
      return;
    }
    this.#budget = state;
    this.#run(this.#light(plan.cells, now));
  }

  #run(work: Promise<void>): void {
    this.#inflight = work.finally(() => {
      this.#inflight = null;
    });
  }

  #error(error: unknown): void {
    if (!this.#abort.signal.aborted) {
      this.#opts.onResult({ error: errorMessage(error) });
    }
  }

  async #full(): Promise<void> {
    try {
      const topology = await this.#opts.topology();
      const measurement = await this.#opts.prober.measure(topology, {
        signal: this.#abort.signal,
      });
      if (this.#abort.signal.aborted) return;
      this.#matrix = measurement;
      const mib = (measurement.bufferBytes / 1048576).toFixed(0);
      this.#opts.onResult({
        measurement,
        method: {
          method: "full",
          dram: true,
          note: `full chase, ${mib} MiB buffer per cell`,
          bufferBytes: measurement.bufferBytes,
        },
        budget: this.report,
      });
    } catch (error) {
      this.#error(error);
    }
  }

  async #light(picked: number[], startMs: number): Promise<void> {
    try {
      const topology = await this.#opts.topology();
      const cells = cellsOf(topology);
      const first = this.#cells === null || this.#cells.length !== cells.length;
      this.#cells = cells;
      // First refresh (or the cells changed): every cell, so steering has a whole matrix.
      const chosen = first ? cells : picked.map((i) => cells[i % cells.length]!);
      const startedAtMs = this.#opts.clock.wallNow();
      const result = await this.#opts.refresher.refresh(topology, chosen, {
        memoryBytes: this.#memoryBytes,
        signal: this.#abort.signal,
      });
      if (this.#abort.signal.aborted) return;
      this.#budget = chargeRefresh(this.#budget, chosen.length, result.costMs);
      this.#matrix = mergeFigures(this.#matrix, cells, result.figures, {
        startedAtMs,
        durationMs: this.#opts.clock.now() - startMs,
        bufferBytes: result.method.bufferBytes,
      });
      this.#opts.onResult({
        measurement: this.#matrix,
        method: result.method,
        budget: this.report,
      });
    } catch (error) {
      this.#error(error);
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
