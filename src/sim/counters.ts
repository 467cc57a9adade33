/**
 * Per-process counters on the simulated machine, behaving like the perf
 * source: counters open when a process first becomes a target (within the fd
 * budget, in the order given), count from that moment, close when it is no
 * longer a target, and vanish when the process exits. Readings are exact
 * integrals of the workload model, so a MAR derived from two readings equals
 * the model's; multiplexing shows only in runningNs < enabledNs.
 *
 * Walk cycles (the WALK_ACTIVE figure) depend on whether the process is
 * replicated, which the model learns only when sampled: each interval is
 * counted at the replication state it began in, as a counter read at the
 * tick boundaries would see a change made during the tick spread over the next.
 */
import type { CounterReading, CounterStatus, ProcessInfo, SignalKind } from "../core/types.ts";
import type { Clock, CounterSource } from "../host.ts";
import { countsBetween, findLive, walkCyclesPerWalk, type Workload } from "./workload_model.ts";

/** Whether the process with this pid is replicated now (the kernel model's view). */
export type ReplicatedNow = (pid: number) => boolean;

/** A loads, a walks and a walk-cycles event per thread, as on an Intel model of the table. */
const FDS_PER_THREAD = 3;
export const SIM_FD_BUDGET = 256;

interface OpenCounters {
  workload: Workload;
  openedAtMs: number;
  fds: number;
  /** Walk cycles up to `lastMs`, and the replication state at `lastMs`. */
  walkCycles: number;
  lastMs: number;
  replicated: boolean;
}

export class SimCounterSource implements CounterSource {
  readonly #clock: Clock;
  readonly #scenario: readonly Workload[];
  readonly #fdBudget: number;
  readonly #signals: SignalKind;
  readonly #replicated: ReplicatedNow;
  #open = new Map<string, OpenCounters>();
  #closed = false;

  constructor(
    clock: Clock,
    scenario: readonly Workload[],
    options: { fdBudget?: number; signals?: SignalKind; replicated?: ReplicatedNow } = {},
  ) {
    this.#replicated = options.replicated ?? (() => false);
    this.#clock = clock;
    this.#scenario = scenario;
    this.#fdBudget = options.fdBudget ?? SIM_FD_BUDGET;
    this.#signals = options.signals ?? "hardware";
  }

  status(): CounterStatus {
    return {
      available: !this.#closed,
      signals: this.#signals,
      source: this.#signals === "software" ? "simulated (software signals)" : "simulated",
      reason: this.#closed ? "closed" : null,
      // No perf_event_paranoid file exists on a simulated machine: unknown, not 0.
      paranoid: null,
      fdBudget: this.#fdBudget,
      fdUsed: this.#fdsUsed(),
      walkCycles: "simulated walk cycles",
    };
  }

  sample(targets: readonly ProcessInfo[]): Map<string, CounterReading> {
    const readings = new Map<string, CounterReading>();
    if (this.#closed) return readings;
    const nowMs = this.#clock.now();
    const wanted = new Set(targets.map((t) => t.id));
    // Close first: counters of exited or dropped targets free fds for new ones.
    for (const [key, open] of this.#open) {
      const stillLive = findLive([open.workload], open.workload, nowMs) !== null;
      if (!wanted.has(key) || !stillLive) this.#open.delete(key);
    }
    for (const target of targets) {
      const key = target.id;
      if (this.#open.has(key)) continue;
      const workload = findLive(this.#scenario, target, nowMs);
      if (workload === null) continue; // gone or never existed: no reading, not a zero one
      const fds = workload.threads * FDS_PER_THREAD;
      if (this.#fdsUsed() + fds > this.#fdBudget) continue;
      this.#open.set(key, {
        workload,
        openedAtMs: nowMs,
        fds,
        walkCycles: 0,
        lastMs: nowMs,
        replicated: this.#replicated(workload.pid),
      });
    }
    for (const [key, open] of this.#open) {
      const { walks } = countsBetween(open.workload, open.lastMs, nowMs);
      open.walkCycles += walks * walkCyclesPerWalk(open.workload, open.replicated);
      open.lastMs = nowMs;
      open.replicated = this.#replicated(open.workload.pid);
      readings.set(key, readingOf(open, nowMs));
    }
    return readings;
  }

  close(): void {
    this.#open.clear();
    this.#closed = true;
  }

  #fdsUsed(): number {
    let used = 0;
    for (const open of this.#open.values()) used += open.fds;
    return used;
  }
}

/** Cumulative counts since the counters opened, with perf's time_enabled/time_running. */
export function readingOf(
  open: Pick<OpenCounters, "workload" | "openedAtMs" | "walkCycles">,
  nowMs: number,
): CounterReading {
  const { workload, openedAtMs } = open;
  const { loads, walks } = countsBetween(workload, openedAtMs, nowMs);
  // FDS_PER_THREAD counters per thread, each enabled since it opened.
  const enabledNs = Math.round((nowMs - openedAtMs) * 1e6) * workload.threads * FDS_PER_THREAD;
  return {
    loads: Math.round(loads),
    walks: Math.round(walks),
    enabledNs,
    runningNs: Math.round(enabledNs * workload.multiplexShare),
    threads: workload.threads,
    walkCycles: Math.round(open.walkCycles),
  };
}
