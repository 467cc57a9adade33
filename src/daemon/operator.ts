/**
 * The operator's commands to a running daemon (the TUI's keys but `stop`):
 * each starts its work and returns; the outcome is an event in a later
 * snapshot.
 */
import { errorMessage } from "../core/error_message.ts";
import type { EventLog } from "../core/events.ts";
import { type ProcessInfo, type ProcessKey, processKeyString } from "../core/types.ts";
import { clampUpdateInterval } from "../core/update_interval.ts";
import type { Host } from "../host.ts";
import type { Actuator } from "./actuator.ts";
import type { Ownership } from "./ownership.ts";
import { label } from "./managed.ts";
import type { LatencyState } from "./latency_state.ts";
import type { MitosisOperations } from "./operations.ts";
import type { PtlScheduler } from "./ptl.ts";
import type { LiveMachine } from "./tick.ts";

export interface OperatorParts {
  host: Host;
  events: EventLog;
  ops: MitosisOperations;
  actuator: Actuator;
  /** What this waspd turned on (ownership.ts). */
  ownership: Ownership;
  latency: LatencyState;
  ptl: PtlScheduler;
  live: LiveMachine;
  /** The process last seen with this key, for its name. */
  process: (key: ProcessKey) => ProcessInfo | undefined;
  enforcing: boolean;
}

/** Carries out one operator action; the command holds its arguments. */
type Action = (p: OperatorParts, command: never) => void;

/**
 * The operator's actions by name: adding one here, a key row in
 * ui/bindings.ts that names it, and the key in the README's key list is all
 * a new daemon key takes, since OperatorCommand is derived from this table.
 */
const ACTIONS = {
  /** Re-measure the PTL latency matrix now. */
  remeasure(p: OperatorParts): void {
    p.latency.askedToRemeasure();
    p.ptl.requestNow();
    p.ptl.poll();
    p.events.emit("probe", "PTL re-measurement requested");
  },
  /** Raise the page-table cache by `pages` per node. */
  cacheAdd(p: OperatorParts, c: { readonly pages: number }): void {
    void p.ops.cacheAdd(c.pages, p.live.mitosis);
  },
  /** Drain the page-table cache. */
  cacheDrain(p: OperatorParts): void {
    void p.ops.cacheDrain();
  },
  /** Toggle /proc/mitosis/mode between -1 and 1. */
  toggleMode(p: OperatorParts): void {
    void p.ops.toggleMode(p.live.mitosis);
  },
  /** Pin a process on or off (manual control); null unpins. */
  pin(
    p: OperatorParts,
    c: { readonly pid: number; readonly start_time: number; readonly state: "on" | "off" | null },
  ): void {
    const { host, events, actuator } = p;
    const key: ProcessKey = { pid: c.pid, startTime: c.start_time };
    const state = c.state;
    const target = { ...key, name: p.process(key)?.name ?? "?" };
    void host.pins.set(key, state, host.clock.wallNow()).then(() => {
      events.emit(
        "pin",
        `${label(target)} ${state === null ? "unpinned" : `pinned ${state}`}`,
        key.pid,
      );
      if (!p.enforcing || state === null) return;
      if (state === "on") actuator.enable(target, "pinned on by hand", p.latency.array);
      else actuator.disable(target, "pinned off by hand");
    }).catch((error) => events.emit("error", `pin failed: ${errorMessage(error)}`, key.pid));
  },
  /** Change the sampling interval, clamped to sane bounds. */
  setUpdateInterval(p: OperatorParts, c: { readonly ms: number }): void {
    const next = clampUpdateInterval(c.ms);
    const live = p.live;
    if (next === live.updateMs) return; // a repeat changes nothing: no event either
    live.updateMs = next;
    p.events.emit("info", `update interval ${live.updateMs} ms`);
  },
  /**
   * Hold the policy's own decisions (it only says what it would do) until
   * asked again; pins, by hand or from the pins file, still act.
   */
  toggleAuto(p: OperatorParts): void {
    if (!p.enforcing) {
      p.events.emit("info", "waspd only advises here: there are no automatic decisions to hold");
      return;
    }
    p.live.autoHeld = !p.live.autoHeld;
    p.events.emit(
      "info",
      p.live.autoHeld
        ? "automatic decisions held: the policy only advises until `a` is pressed again"
        : "automatic decisions resumed",
    );
  },
  /**
   * Turn off now the replication this waspd turned on, and hold the policy so
   * that it does not turn it on again (`a` resumes it). A process pinned on
   * keeps its replication: its pin still acts, and would turn it on again.
   */
  allOff(p: OperatorParts): void {
    if (!p.enforcing) {
      p.events.emit("info", "waspd only advises here: it turned nothing on to turn off");
      return;
    }
    p.live.autoHeld = true;
    void p.host.pins.read().then(({ pins }) => {
      const targets = p.ownership.owned().filter((t) =>
        pins.get(processKeyString(t))?.state !== "on"
      );
      for (const target of targets) p.actuator.disable(target, "all off by hand");
      p.events.emit(
        "info",
        `all off: turning replication off for ${targets.length} process(es); automatic ` +
          "decisions held until `a` is pressed",
      );
    }).catch((error) => p.events.emit("error", `all off failed: ${errorMessage(error)}`));
  },
} satisfies Record<string, Action>;

type Actions = typeof ACTIONS;
type ArgsOf<F> = F extends (p: OperatorParts, command: infer C) => void ? C : never;

/** An operator action by name, with its arguments. */
export type OperatorCommand = {
  [K in keyof Actions]: { readonly kind: K } & ArgsOf<Actions[K]>;
}[keyof Actions];

/** Carry out one operator command: the action of its kind, given the daemon's parts. */
export function operate(parts: OperatorParts, command: OperatorCommand): void {
  // Each action takes the command of its own kind, which TS cannot follow through the index.
  (ACTIONS[command.kind] as (p: OperatorParts, c: OperatorCommand) => void)(parts, command);
}
