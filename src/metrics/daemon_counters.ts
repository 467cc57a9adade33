/**
 * What the metrics need beyond one Snapshot: totals that grow over the
 * daemon's life. Actions by kind and result are counted from the events each
 * snapshot carries (the Actuator and the Mitosis operations tag every kernel
 * call's outcome); tick durations from `tick_ms`. Fed one snapshot per tick,
 * so nothing here touches the daemon's loop beyond that call.
 */
import {
  ACTION_KINDS,
  ACTION_OUTCOMES,
  type ActionKind,
  type ActionOutcome,
  type EventJson,
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

export interface CountersView {
  actions: ReadonlyMap<`${ActionKind}/${ActionOutcome}`, number>;
  events: ReadonlyMap<EventJson["kind"], number>;
  tick: Readonly<HistogramState>;
  snapshots: number;
  /** Lines dropped because a stream's reader did not read (sys/stdio.ts). */
  outputDropped: Readonly<Record<StreamName, number>>;
}

export class DaemonCounters {
  readonly #actions = new Map<`${ActionKind}/${ActionOutcome}`, number>();
  readonly #events = new Map<EventJson["kind"], number>();
  readonly #tick: HistogramState = { buckets: TICK_BUCKETS_S.map(() => 0), sum: 0, count: 0 };
  #snapshots = 0;
  readonly #outputDropped: () => Readonly<Record<StreamName, number>>;

  /** `outputDropped`: the process's own stdout and stderr unless a test gives its own. */
  constructor(outputDropped = () => stdio.dropped()) {
    this.#outputDropped = outputDropped;
    // Every kind/result pair exists from the start at 0, so rate() and
    // increase() see the first action as an increase rather than a new series.
    for (const kind of ACTION_KINDS) {
      for (const result of ACTION_OUTCOMES) this.#actions.set(`${kind}/${result}`, 0);
    }
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
  }

  view(): CountersView {
    return {
      actions: this.#actions,
      events: this.#events,
      tick: this.#tick,
      snapshots: this.#snapshots,
      outputDropped: this.#outputDropped(),
    };
  }

  #observeTick(seconds: number): void {
    this.#tick.count++;
    this.#tick.sum += seconds;
    TICK_BUCKETS_S.forEach((bound, i) => {
      if (seconds <= bound) this.#tick.buckets[i] = (this.#tick.buckets[i] ?? 0) + 1;
    });
  }
}
