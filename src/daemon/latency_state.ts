/**
 * What the daemon knows of the page-table-lookup latency matrix: the last
 * measurement (or why the last one failed) and the steering computed from
 * it. Deciding what a new measurement means is here; acting on it (the log,
 * pushing steering to the kernel) is the daemon's.
 */
import { computeSteering, steeringArray } from "../core/steering.ts";
import type { PtlMeasurement, PtlMethod, Steering } from "../core/types.ts";
import type { BudgetReport } from "./ptl_budget.ts";

export interface MeasurementNews {
  /** The steering array to push: it differs from the one before (or is the first). */
  changed: boolean;
  array: number[];
  /** The line for the log, or null when the measurement says nothing new. */
  log: string | null;
}

export class LatencyState {
  measurement: PtlMeasurement | null = null;
  /** Why the last measurement failed; null after a good one. */
  error: string | null = null;
  steering: Steering | null = null;
  /** The int32[8] steering array for prctl(104); null before the first measurement. */
  array: number[] | null = null;
  /** How the last measurement was taken, and whether it is memory latency at all. */
  method: PtlMethod | null = null;
  /** How the budgeted refresh keeps up (null until a cell's cost is known). */
  budget: BudgetReport | null = null;
  #remeasureAsked = false;

  /** The operator asked for a measurement: its result is logged even if nothing changed. */
  askedToRemeasure(): void {
    this.#remeasureAsked = true;
  }

  /**
   * A new matrix. `how` says how it was taken (the daemon always says; a
   * caller that does not is taken to have a memory-latency figure).
   */
  measured(
    m: PtlMeasurement,
    how?: { method: PtlMethod; budget: BudgetReport | null },
  ): MeasurementNews {
    this.measurement = m;
    this.error = null;
    const wasDram = this.method?.dram ?? true;
    this.method = how?.method ?? null;
    this.budget = how?.budget ?? null;
    const method = how?.method;
    if (method !== undefined && !method.dram) {
      // Cache latency is no basis for steering: the last honest steering stays.
      this.#remeasureAsked = false;
      return {
        changed: false,
        array: this.array ?? [],
        log: wasDram ? `PTL figures are not memory latency: ${method.note ?? "unknown why"}` : null,
      };
    }
    this.steering = computeSteering(m);
    const array = steeringArray(this.steering);
    const first = this.array === null;
    const changed = first || array.some((v, i) => v !== this.array?.[i]);
    this.array = array;
    // Every measurement is in the snapshot; the log only gets the ones that matter.
    const log = first || changed || this.#remeasureAsked
      ? `PTL ${m.rows.length}x${m.cols.length} measured in ${m.durationMs.toFixed(0)} ms` +
        (changed && !first ? `: steering now [${array.join(" ")}]` : "")
      : null;
    this.#remeasureAsked = false;
    return { changed, array, log };
  }

  failed(error: string): void {
    this.error = error;
  }

  /** The steering part of a snapshot. */
  snapshotSteering(): { steering: Steering; array: readonly number[] } | null {
    return this.steering === null || this.array === null
      ? null
      : { steering: this.steering, array: this.array };
  }
}
