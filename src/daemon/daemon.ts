/**
 * The daemon: sample -> decide (pure policy) -> act (through the Actuator) ->
 * Snapshot, once per update interval; PTL measurements in the background;
 * the operator's commands (DaemonControl); and on stop, the undo of
 * everything it changed. It only ever sees a Host, so it runs the same on
 * the real machine and the simulated one.
 */
import { capabilitiesJson } from "../core/capabilities.ts";
import { selectManageable } from "../core/discovery.ts";
import { EventLog } from "../core/events.ts";
import { decideAll, type PolicyDecision, type PolicyState } from "../core/policy.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { computeSteering, steeringArray } from "../core/steering.ts";
import type {
  CounterReading,
  MitosisDetection,
  MitosisState,
  ProcessInfo,
  ProcessKey,
  PtlMeasurement,
  Steering,
  Topology,
} from "../core/types.ts";
import { processKeyString } from "../core/types.ts";
import type { Config } from "../config.ts";
import type { DaemonControl } from "../daemon_api.ts";
import type { Host, Privileges } from "../host.ts";
import { Actuator, label } from "./actuator.ts";
import { policySampleOf, signalsOf } from "./assemble.ts";
import { composeSnapshot } from "./compose.ts";
import { MitosisOperations } from "./operations.ts";
import type { PinStore } from "./pin_store.ts";
import { PtlScheduler } from "./ptl.ts";

/** Longest a prctl(100) may take before the process is marked stuck. */
export const PRCTL_DEADLINE_MS = 2000;
export const MIN_UPDATE_MS = 100;
export const MAX_UPDATE_MS = 60_000;

export interface DaemonOptions {
  host: Host;
  config: Config;
  pins: PinStore;
  events?: EventLog;
  selfPid?: number;
}

export class Daemon implements DaemonControl {
  readonly host: Host;
  readonly events: EventLog;
  readonly #config: Config;
  readonly #pins: PinStore;
  readonly #selfPid: number;
  readonly #actuator: Actuator;
  readonly #ptl: PtlScheduler;
  readonly #stop = new AbortController();
  #ops!: MitosisOperations;
  #updateMs: number;
  #tick = 0;
  #topology!: Topology;
  #privileges!: Privileges;
  #detection!: MitosisDetection;
  #mitosis: MitosisState | null = null;
  #policy = new Map<string, PolicyState>();
  #statuses = new Map<string, string>();
  #readings = new Map<string, CounterReading>();
  #processes = new Map<string, ProcessInfo>();
  #lastSampleMs: number | null = null;
  #measurement: PtlMeasurement | null = null;
  #ptlError: string | null = null;
  #steering: Steering | null = null;
  #steeringArray: number[] | null = null;
  #remeasureAsked = false;
  stopReason: string | null = null;

  constructor(opts: DaemonOptions) {
    this.host = opts.host;
    this.#config = opts.config;
    this.#pins = opts.pins;
    this.#selfPid = opts.selfPid ?? Deno.pid;
    this.#updateMs = opts.config.updateIntervalMs;
    this.events = opts.events ?? new EventLog(() => opts.host.clock.wallNow());
    this.#actuator = new Actuator(this.host, this.events, PRCTL_DEADLINE_MS);
    this.#ptl = new PtlScheduler({
      prober: this.host.prober,
      clock: this.host.clock,
      intervalMs: opts.config.ptlIntervalMs,
      topology: async () => (this.#topology = await this.host.topology()),
      onResult: (r) =>
        "measurement" in r ? this.#onMeasurement(r.measurement) : this.#onPtlError(r.error),
    });
  }

  get enforcing(): boolean {
    return this.#privileges.root && this.#detection.present;
  }

  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  get updateIntervalMs(): number {
    return this.#updateMs;
  }

  /** Resolves when the kernel calls under way (each bounded by its deadline) are done. */
  settle(): Promise<void> {
    return this.#actuator.settle();
  }

  /** Pids whose prctl 100 overran its deadline. */
  stuckPids(): number[] {
    return [...this.#actuator.stuck.values()].map((p) => p.pid);
  }

  /** Resolves when the PTL measurement under way (if any) has finished. */
  ptlIdle(): Promise<void> {
    return this.#ptl.idle();
  }

  /** Read the machine once, say in which mode the daemon runs, apply `-c`. */
  async start(): Promise<void> {
    this.#topology = await this.host.topology();
    this.#privileges = this.host.privileges();
    this.#detection = await this.host.mitosis.detect();
    this.#mitosis = this.#detection.present ? await this.host.mitosis.read() : null;
    this.#ops = new MitosisOperations(this.host.mitosis, this.events, () => this.enforcing);
    this.#ops.remember(this.#mitosis);
    const counters = this.host.counters.status();
    const caps = capabilitiesJson(this.#privileges, counters, this.#detection);
    this.events.emit(
      "info",
      caps.mode === "enforcing"
        ? "enforcing: waspd will change replication"
        : `ADVISORY: nothing is written (${caps.advisory_reasons.join("; ")})`,
      null,
      caps.mode === "enforcing" ? {} : { severity: "warning" },
    );
    if (!counters.available) {
      this.events.emit(
        "info",
        `hardware counters unavailable: ${counters.reason ?? "unknown"}`,
        null,
        { severity: "warning" },
      );
    }
    if (this.#config.cachePages > 0) await this.#ops.populateCache(this.#config.cachePages);
  }

  /** One sample-decide-act round; returns the snapshot of it. */
  async tick(): Promise<Snapshot> {
    const started = performance.now();
    const now = this.host.clock.now();
    this.#tick++;
    let all: ProcessInfo[] = [];
    try {
      all = await this.host.processes();
    } catch (error) {
      this.events.emit("error", `reading processes failed: ${String(error)}`);
    }
    const { managed } = selectManageable(all, this.#config.exclude, this.#selfPid);
    const readings = this.host.counters.sample(managed);
    const { pins, warnings } = await this.#pins.read();
    for (const w of warnings) this.events.emit("error", w);
    if (this.#detection.present) this.#mitosis = await this.host.mitosis.read();
    const replicas = this.#mitosis === null
      ? null
      : new Map(this.#mitosis.active.filter((a) => a.live).map((a) => [a.pid, a.nodes]));
    const dtMs = this.#lastSampleMs === null ? 0 : now - this.#lastSampleMs;
    const signals = signalsOf(managed, readings, this.#readings, this.#processes, replicas, dtMs);

    const advisory = !this.enforcing;
    const pinOf = (k: ProcessKey) => pins.get(processKeyString(k))?.state ?? null;
    const samples = signals.map((s) => {
      const key = processKeyString(s.process);
      return policySampleOf(s, {
        pinned: pinOf(s.process),
        stuck: this.#actuator.stuck.has(key),
        ownedByWaspd: this.#actuator.enabled.has(key),
        advisory,
      });
    });
    const round = decideAll(this.#policy, samples, now, this.#config);
    for (const s of signals) {
      const d = round.decisions.get(processKeyString(s.process));
      if (d !== undefined) this.#act(s.process, d);
    }
    // A process that exited took its replicas with it: nothing to undo later.
    for (const gone of round.gone) this.#actuator.forget(gone.key);
    this.#policy = round.states;
    this.#readings = new Map(readings);
    this.#processes = new Map(managed.map((p) => [processKeyString(p), p]));
    this.#lastSampleMs = now;
    this.#ptl.poll();

    const counterStatus = this.host.counters.status();
    const wallNow = this.host.clock.wallNow();
    return composeSnapshot({
      host: this.host,
      topology: this.#topology,
      capabilities: capabilitiesJson(this.#privileges, counterStatus, this.#detection),
      signals,
      decisions: round.decisions,
      pinOf,
      counterSource: counterStatus.source,
      hasCounters: (key) => readings.has(key),
      daemon: {
        tick: this.#tick,
        update_ms: this.#updateMs,
        ptl_interval_ms: this.#config.ptlIntervalMs,
        hysteresis_ms: this.#config.hysteresisMs,
        thr_mar: this.#config.thrMar,
        thr_dtlb: this.#config.thrDtlb,
        ptl_measuring: this.#ptl.measuring,
        ptl_error: this.#ptlError,
      },
      mitosis: this.#mitosis,
      measurement: this.#measurement,
      steering: this.#steering === null || this.#steeringArray === null
        ? null
        : { steering: this.#steering, array: this.#steeringArray },
      events: this.events.takeNew(),
      wallNow,
      tickMs: performance.now() - started,
    });
  }

  #act(process: ProcessInfo, d: PolicyDecision): void {
    const key = processKeyString(process);
    const target = { pid: process.pid, startTime: process.startTime, name: process.name };
    if (
      this.#statuses.get(key) !== d.status && (d.status === "watch" || d.status === "candidate")
    ) {
      this.events.emit("decision", `${label(target)} ${d.status}: ${d.reason}`, process.pid);
    }
    this.#statuses.set(key, d.status);
    if (d.action === "none") return;
    if (!this.enforcing) {
      this.events.emit("decision", `${label(target)}: ${d.reason}`, process.pid);
      return;
    }
    if (d.action === "enable") this.#actuator.enable(target, d.reason, this.#steeringArray);
    else this.#actuator.disable(target, d.reason);
  }

  #onMeasurement(m: PtlMeasurement): void {
    this.#measurement = m;
    this.#ptlError = null;
    this.#steering = computeSteering(m);
    const array = steeringArray(this.#steering);
    const changed = this.#steeringArray === null ||
      array.some((v, i) => v !== this.#steeringArray?.[i]);
    const first = this.#steeringArray === null;
    this.#steeringArray = array;
    // Every measurement is in the snapshot; the log only gets the ones that matter.
    if (first || changed || this.#remeasureAsked) {
      this.events.emit(
        "probe",
        `PTL ${m.rows.length}x${m.cols.length} measured in ${m.durationMs.toFixed(0)} ms` +
          (changed && !first ? `: steering now [${array.join(" ")}]` : ""),
      );
    }
    this.#remeasureAsked = false;
    if (changed && this.enforcing) this.#actuator.pushSteering(array, "latency matrix changed");
  }

  #onPtlError(error: string): void {
    this.#ptlError = error;
    this.events.emit("error", `PTL measurement failed: ${error}`);
  }

  // ------------------------------------------------------------ DaemonControl

  remeasure(): void {
    this.#remeasureAsked = true;
    this.#ptl.requestNow();
    this.#ptl.poll();
    this.events.emit("probe", "PTL re-measurement requested");
  }

  cacheAdd(pages: number): void {
    void this.#ops.cacheAdd(pages, this.#mitosis);
  }

  cacheDrain(): void {
    void this.#ops.cacheDrain();
  }

  toggleMode(): void {
    void this.#ops.toggleMode(this.#mitosis);
  }

  pin(key: ProcessKey, state: "on" | "off" | null): void {
    const process = this.#processes.get(processKeyString(key));
    const target = { ...key, name: process?.name ?? "?" };
    void this.#pins.set(key, state, this.host.clock.wallNow()).then(() => {
      this.events.emit(
        "pin",
        `${label(target)} ${state === null ? "unpinned" : `pinned ${state}`}`,
        key.pid,
      );
      if (!this.enforcing || state === null) return;
      if (state === "on") this.#actuator.enable(target, "pinned on by hand", this.#steeringArray);
      else this.#actuator.disable(target, "pinned off by hand");
    }).catch((error) => this.events.emit("error", `pin failed: ${String(error)}`, key.pid));
  }

  setUpdateInterval(ms: number): void {
    this.#updateMs = Math.min(MAX_UPDATE_MS, Math.max(MIN_UPDATE_MS, Math.round(ms)));
    this.events.emit("info", `update interval ${this.#updateMs} ms`);
  }

  stop(reason: string): void {
    if (this.stopReason === null) this.stopReason = reason;
    this.#stop.abort();
  }

  /**
   * Undo what the daemon changed: replication it turned on, the mode and
   * inherit values it found. Returns one line per thing undone (or left).
   */
  async shutdown(): Promise<string[]> {
    await this.#ptl.stop();
    const lines = await this.#actuator.undoAll();
    lines.push(...await this.#ops.restore());
    for (const line of lines) this.events.emit("undo", line);
    await this.host.close();
    return lines;
  }
}
