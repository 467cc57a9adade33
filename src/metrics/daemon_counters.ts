/**
 * What the metrics need beyond one Snapshot: totals that grow over the
 * daemon's life. Actions by kind and result are counted from the events each
 * snapshot carries (the Actuator and the Mitosis operations tag every kernel
 * call's outcome); tick durations from `tick_ms`; per-process loads, page
 * walks and faults by adding up each tick's rates over the interval they
 * cover (`sample_ms`), which gives back the counts the rates were made from,
 * so `rate()` over any window works. Fed one snapshot per tick,
 * so nothing here touches the daemon's loop beyond that call.
 */
import {
  ACTION_KINDS,
  ACTION_OUTCOMES,
  type ActionKind,
  type ActionOutcome,
  EVENT_KINDS,
  type EventJson,
  type ProcessJson,
  type Snapshot,
} from "../core/snapshot.ts";
import { stdio, type StreamName } from "../sys/stdio.ts";

/** Tick-duration histogram bounds, seconds: 1 ms to 10 s (a tick above `-u` is late). */
export const TICK_BUCKETS_S: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

export interface HistogramState {
  /** Cumulative counts per bound of TICK_BUCKETS_S (le), then +Inf = count. */
  buckets: number[];
  sum: number;
  count: number;
}

/** What a process did since waspd first sampled it (a key is pid/start_time). */
export interface ProcessTotals {
  /** Loads (CPU ns of task-clock with software signals). */
  loads: number;
  /** Page walks (page faults with software signals). */
  walks: number;
  minorFaults: number;
  majorFaults: number;
}

export const processTotalsKey = (p: Pick<ProcessJson, "pid" | "start_time">): string =>
  `${p.pid}/${p.start_time}`;

export interface CountersView {
  actions: ReadonlyMap<`${ActionKind}/${ActionOutcome}`, number>;
  events: ReadonlyMap<EventJson["kind"], number>;
  tick: Readonly<HistogramState>;
  snapshots: number;
  /** Totals of the processes of the last snapshot, by processTotalsKey. */
  processes: ReadonlyMap<string, Readonly<ProcessTotals>>;
  /** Lines dropped because a stream's reader did not read (sys/stdio.ts). */
  outputDropped: Readonly<Record<StreamName, number>>;
}

export class DaemonCounters {
  readonly #actions = new Map<`${ActionKind}/${ActionOutcome}`, number>();
  readonly #events = new Map<EventJson["kind"], number>();
  readonly #tick: HistogramState = { buckets: TICK_BUCKETS_S.map(() => 0), sum: 0, count: 0 };
  #snapshots = 0;
  #processes = new Map<string, ProcessTotals>();
  readonly #outputDropped: () => Readonly<Record<StreamName, number>>;

  /** `outputDropped`: the process's own stdout and stderr unless a test gives its own. */
  constructor(outputDropped = () => stdio.dropped()) {
    this.#outputDropped = outputDropped;
    // Every kind/result pair exists from the start at 0, so rate() and
    // increase() see the first action as an increase rather than a new series.
    for (const kind of ACTION_KINDS) {
      for (const result of ACTION_OUTCOMES) this.#actions.set(`${kind}/${result}`, 0);
    }
    for (const kind of EVENT_KINDS) this.#events.set(kind, 0);
  }

  /** Count one tick's snapshot: its events and its duration. */
  observe(snapshot: Snapshot): void {
    this.#snapshots++;
    for (const event of snapshot.events) {
      this.#events.set(event.kind, (this.#events.get(event.kind) ?? 0) + 1);
      if (event.action === undefined) continue;
      const key = `${event.action.kind}/${event.action.result}` as const;
      this.#actions.set(key, (this.#actions.get(key) ?? 0) + 1);
    }
    if (snapshot.tick_ms !== null) this.#observeTick(snapshot.tick_ms / 1000);
    this.#observeProcesses(snapshot);
  }

  view(): CountersView {
    return {
      actions: this.#actions,
      events: this.#events,
      tick: this.#tick,
      snapshots: this.#snapshots,
      processes: this.#processes,
      outputDropped: this.#outputDropped(),
    };
  }

  /**
   * Each process's counts grow by rate x interval; an unknown rate adds
   * nothing (the count is then short by that interval, never invented). Only
   * the processes of this snapshot are kept: one that exited is forgotten.
   */
  #observeProcesses(snapshot: Snapshot): void {
    const dtS = (snapshot.daemon?.sample_ms ?? 0) / 1000;
    const next = new Map<string, ProcessTotals>();
    for (const p of snapshot.processes) {
      const key = processTotalsKey(p);
      const t = this.#processes.get(key) ??
        { loads: 0, walks: 0, minorFaults: 0, majorFaults: 0 };
      if (dtS > 0) {
        if (p.mar !== null) t.loads += p.mar * dtS;
        if (p.mar !== null && p.dtlb_ratio !== null) t.walks += p.mar * p.dtlb_ratio * dtS;
        if (p.minflt_per_s !== null) t.minorFaults += p.minflt_per_s * dtS;
        if (p.majflt_per_s !== null) t.majorFaults += p.majflt_per_s * dtS;
      }
      next.set(key, t);
    }
    this.#processes = next;
  }

  #observeTick(seconds: number): void {
    this.#tick.count++;
    this.#tick.sum += seconds;
    TICK_BUCKETS_S.forEach((bound, i) => {
      if (seconds <= bound) this.#tick.buckets[i] = (this.#tick.buckets[i] ?? 0) + 1;
    });
  }
}
