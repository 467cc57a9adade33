/**
 * The event log: every action and decision change with its reason. Events are
 * numbered, handed to each snapshot once (`takeNew`), and written as JSON lines
 * to an optional sink (the `--log FILE`). The sink is a function so this stays
 * free of file I/O.
 */
import type { EventAction, EventJson } from "./snapshot.ts";

export type EventKind = EventJson["kind"];
/** Receives each event as its JSON line, and as the object for sinks that format it. */
export type EventSink = (line: string, event: EventJson) => void;

/** What an event may carry besides its kind, message and pid. */
export interface EventExtra {
  action?: EventAction;
  severity?: "warning";
}

export class EventLog {
  #seq = 0;
  #pending: EventJson[] = [];
  readonly #sink: EventSink | null;
  readonly #wallNow: () => number;

  constructor(wallNow: () => number, sink: EventSink | null = null) {
    this.#wallNow = wallNow;
    this.#sink = sink;
  }

  emit(
    kind: EventKind,
    message: string,
    pid: number | null = null,
    extra: EventExtra = {},
  ): EventJson {
    const event: EventJson = {
      seq: ++this.#seq,
      time: new Date(this.#wallNow()).toISOString(),
      kind,
      pid,
      message,
      ...extra,
    };
    this.#pending.push(event);
    this.#sink?.(JSON.stringify(event), event);
    return event;
  }

  /** Events emitted since the previous call, oldest first. */
  takeNew(): EventJson[] {
    const out = this.#pending;
    this.#pending = [];
    return out;
  }
}
