/**
 * The operator's commands to a running daemon (the TUI's keys, DaemonControl
 * but `stop`): each starts its work and returns; the outcome is an event in
 * a later snapshot.
 */
import type { EventLog } from "../core/events.ts";
import type { ProcessInfo, ProcessKey } from "../core/types.ts";
import { clampUpdateInterval } from "../core/update_interval.ts";
import type { Host } from "../host.ts";
import type { Actuator } from "./actuator.ts";
import { label } from "./managed.ts";
import type { DaemonControl } from "./control.ts";
import type { LatencyState } from "./latency_state.ts";
import type { MitosisOperations } from "./operations.ts";
import type { PtlScheduler } from "./ptl.ts";
import type { LiveMachine } from "./tick.ts";

export interface OperatorParts {
  host: Host;
  events: EventLog;
  ops: MitosisOperations;
  actuator: Actuator;
  latency: LatencyState;
  ptl: PtlScheduler;
  live: LiveMachine;
  /** The process last seen with this key, for its name. */
  process: (key: ProcessKey) => ProcessInfo | undefined;
  enforcing: boolean;
}

export class Operator implements Omit<DaemonControl, "stop"> {
  readonly #p: OperatorParts;

  constructor(parts: OperatorParts) {
    this.#p = parts;
  }

  remeasure(): void {
    this.#p.latency.askedToRemeasure();
    this.#p.ptl.requestNow();
    this.#p.ptl.poll();
    this.#p.events.emit("probe", "PTL re-measurement requested");
  }

  cacheAdd(pages: number): void {
    void this.#p.ops.cacheAdd(pages, this.#p.live.mitosis);
  }

  cacheDrain(): void {
    void this.#p.ops.cacheDrain();
  }

  toggleMode(): void {
    void this.#p.ops.toggleMode(this.#p.live.mitosis);
  }

  pin(key: ProcessKey, state: "on" | "off" | null): void {
    const { host, events, actuator } = this.#p;
    const target = { ...key, name: this.#p.process(key)?.name ?? "?" };
    void host.pins.set(key, state, host.clock.wallNow()).then(() => {
      events.emit(
        "pin",
        `${label(target)} ${state === null ? "unpinned" : `pinned ${state}`}`,
        key.pid,
      );
      if (!this.#p.enforcing || state === null) return;
      if (state === "on") actuator.enable(target, "pinned on by hand", this.#p.latency.array);
      else actuator.disable(target, "pinned off by hand");
    }).catch((error) => events.emit("error", `pin failed: ${String(error)}`, key.pid));
  }

  setUpdateInterval(ms: number): void {
    const next = clampUpdateInterval(ms);
    const live = this.#p.live;
    if (next === live.updateMs) return; // a repeat changes nothing: no event either
    live.updateMs = next;
    this.#p.events.emit("info", `update interval ${live.updateMs} ms`);
  }
}
