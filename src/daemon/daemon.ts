/**
 * The daemon: sample -> decide (pure policy) -> act (through the Actuator) ->
 * Snapshot, once per update interval (`run`, or `once` for --once); PTL
 * measurements in the background; the operator's commands (DaemonControl);
 * and on stop, the undo of everything it changed (`shutdown`, or
 * `await using`). It only ever sees a Host, so it runs the same on
 * the real machine and the simulated one.
 */
import { capabilitiesJson } from "../core/capabilities.ts";
import { selectManageable } from "../core/discovery.ts";
import { EventLog, type EventSink } from "../core/events.ts";
import { decideAll, type PolicyDecision, type PolicyState } from "../core/policy.ts";
import type { Snapshot } from "../core/snapshot.ts";
import type {
  CounterReading,
  MitosisDetection,
  MitosisState,
  ProcessInfo,
  ProcessKey,
  Topology,
} from "../core/types.ts";
import { processKeyString } from "../core/types.ts";
import { clampUpdateInterval } from "../core/update_interval.ts";
import { type Config, isExcludedName } from "../config.ts";
import type { DaemonControl } from "./control.ts";
import type { Host, Privileges } from "../host.ts";
import { Actuator } from "./actuator.ts";
import { label } from "./managed.ts";
import { policySampleOf, signalsOf } from "./policy_inputs.ts";
import { composeSnapshot } from "./snapshot_compose.ts";
import { MitosisOperations } from "./operations.ts";
import { LatencyState } from "./latency_state.ts";
import { OwnershipLedger, takeOverOwnership } from "./ownership.ts";
import { type PtlMeasured, PtlScheduler } from "./ptl.ts";
import { ptlMethodJson } from "../core/snapshot.ts";
import { type MachineAtStart, readMachine, startupLines } from "./startup.ts";

/** Longest a prctl(100) may take before the process is marked stuck. */
export const PRCTL_DEADLINE_MS = 2000;

export interface DaemonOptions {
  /** Where every event is also written as a JSON line (`--log FILE`). */
  eventSink?: EventSink | null;
  /** The daemon's own pid, never managed (default: this process). */
  selfPid?: number;
}

export class Daemon implements DaemonControl {
  readonly #host: Host;
  readonly events: EventLog;
  readonly #config: Config;
  readonly #selfPid: number;
  readonly #actuator: Actuator;
  readonly #ledger: OwnershipLedger;
  readonly #ptl: PtlScheduler;
  readonly #ops: MitosisOperations;
  readonly #privileges: Privileges;
  readonly #detection: MitosisDetection;
  readonly #stop = new AbortController();
  #updateMs: number;
  #tick = 0;
  #topology: Topology;
  #mitosis: MitosisState | null;
  #shutdown: Promise<string[]> | null = null;
  #policy = new Map<string, PolicyState>();
  #statuses = new Map<string, string>();
  #readings = new Map<string, CounterReading>();
  #processes = new Map<string, ProcessInfo>();
  #lastSampleMs: number | null = null;
  readonly #latency = new LatencyState();
  readonly #excludedNames = new Map<string, boolean>();
  stopReason: string | null = null;

  private constructor(host: Host, config: Config, options: DaemonOptions, at: MachineAtStart) {
    this.#host = host;
    this.#config = config;
    this.#selfPid = options.selfPid ?? Deno.pid;
    this.#updateMs = config.updateIntervalMs;
    this.events = new EventLog(() => host.clock.wallNow(), options.eventSink ?? null);
    this.#topology = at.topology;
    this.#privileges = at.privileges;
    this.#detection = at.detection;
    this.#mitosis = at.mitosis;
    this.#ledger = new OwnershipLedger(
      host.ownership,
      this.#selfPid,
      () => host.clock.wallNow(),
      (kind, message, pid) => this.events.emit(kind, message, pid),
    );
    this.#actuator = new Actuator(host, this.events, PRCTL_DEADLINE_MS, this.#ledger);
    this.#ops = new MitosisOperations(host.mitosis, this.events, () => this.enforcing);
    this.#ops.remember(this.#mitosis);
    this.#ptl = new PtlScheduler({
      prober: host.prober,
      refresher: host.refresher,
      clock: host.clock,
      intervalMs: config.ptlIntervalMs,
      budget: {
        cpuFraction: config.ptlCpuPercent / 100,
        memoryBytes: config.ptlMemoryMb * 1024 * 1024,
      },
      topology: async () => (this.#topology = await host.topology()),
      onResult: (r) => "measurement" in r ? this.#onMeasurement(r) : this.#onPtlError(r.error),
    });
  }

  /**
   * Read the machine once, say in which mode the daemon runs, apply `-c`:
   * a started daemon, which owns `host` from here on (its shutdown closes
   * it). If it cannot start, the host is closed before the error is thrown.
   */
  static async open(host: Host, config: Config, options: DaemonOptions = {}): Promise<Daemon> {
    let at: MachineAtStart;
    try {
      at = await readMachine(host);
    } catch (error) {
      await host.close();
      throw error;
    }
    const daemon = new Daemon(host, config, options, at);
    try {
      for (const line of startupLines(at, host.counters.status())) {
        daemon.events.emit("info", line.text, null, line.warning ? { severity: "warning" } : {});
      }
      // The prctl helper starts now, so the first call finds it ready.
      if (daemon.enforcing) host.mitosis.warmUp?.();
      await daemon.#takeOver();
      if (daemon.enforcing) {
        const keep = config.keepInherit ? "--keep-inherit" : config.once ? "--once" : null;
        await daemon.#ops.inheritOff(keep);
      }
      if (config.cachePages > 0) await daemon.#ops.populateCache(config.cachePages);
    } catch (error) {
      await daemon.shutdown();
      throw error;
    }
    return daemon;
  }

  /**
   * At start: prune the pins of processes that are gone, then take over what
   * a previous waspd left on without its undo (adopt it, or turn it off).
   */
  async #takeOver(): Promise<void> {
    const host = this.#host;
    const { pins, warnings } = await host.pins.prune();
    for (const w of warnings) this.events.emit("error", w);
    const live = this.#mitosis?.active.filter((a) => a.live).map((a) => a.pid) ?? null;
    await takeOverOwnership({
      ledger: this.#ledger,
      confirm: (key) => host.confirm(key),
      replicated: (pid) => (live === null ? null : live.includes(pid)),
      manageable: (p) =>
        selectManageable([p], (name) => isExcludedName(name, this.#config.exclude), this.#selfPid)
          .managed.length === 1,
      pinned: (key) => pins.get(processKeyString(key))?.state ?? null,
      enforcing: this.enforcing,
      adopt: (target) => this.#actuator.adopt(target),
      disable: (target, reason) => this.#actuator.disable(target, reason),
      report: (kind, message, pid) => this.events.emit(kind, message, pid),
      label,
    });
  }

  get enforcing(): boolean {
    return this.#privileges.root && this.#detection.present;
  }

  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  /** Resolves when the kernel calls under way (each bounded by its deadline) are done. */
  settle(): Promise<void> {
    return this.#actuator.settle();
  }

  /** Pids whose prctl 100 overran its deadline (and has not answered since). */
  stuckPids(): number[] {
    return [...this.#actuator.stuck.values()].map((p) => p.target.pid);
  }

  /** Resolves when the PTL measurement under way (if any) has finished. */
  ptlIdle(): Promise<void> {
    return this.#ptl.idle();
  }

  /**
   * Tick once per update interval, handing each snapshot to `onSnapshot`,
   * until `stop()` is called or `signal` aborts (which stops the daemon with
   * the signal's reason). Resolves when the loop has ended; undo is
   * `shutdown`'s job.
   */
  async run(onSnapshot: (snapshot: Snapshot) => void, signal?: AbortSignal): Promise<void> {
    const unlink = this.#stopOn(signal);
    try {
      const clock = this.#host.clock;
      while (!this.#stop.signal.aborted) {
        const started = clock.now();
        onSnapshot(await this.tick());
        const elapsed = clock.now() - started;
        await clock.sleep(Math.max(0, this.#updateMs - elapsed), this.#stop.signal);
      }
    } finally {
      unlink();
    }
  }

  /**
   * `--once`: two ticks one update interval apart (rates need a window) with
   * the first PTL measurement finished in between; the second snapshot,
   * carrying the events of both. `signal` cuts the wait short.
   */
  async once(signal?: AbortSignal): Promise<Snapshot> {
    const unlink = this.#stopOn(signal);
    try {
      // A one-shot report measures once, at full accuracy: the budget is for a running daemon.
      this.#ptl.requestNow();
      const first = await this.tick();
      await this.#host.clock.sleep(this.#updateMs, this.#stop.signal);
      await this.ptlIdle();
      const second = await this.tick();
      return { ...second, events: [...first.events, ...second.events] };
    } finally {
      unlink();
    }
  }

  /** Stop when `signal` aborts (now, if it already has); returns the unlink. */
  #stopOn(signal: AbortSignal | undefined): () => void {
    if (signal === undefined) return () => {};
    const onAbort = () => this.stop(String(signal.reason ?? "aborted"));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  }

  /** One sample-decide-act round; returns the snapshot of it. */
  async tick(): Promise<Snapshot> {
    const started = performance.now();
    const now = this.#host.clock.now();
    this.#tick++;
    let all: ProcessInfo[] = [];
    try {
      all = await this.#host.processes();
    } catch (error) {
      this.events.emit("error", `reading processes failed: ${String(error)}`);
    }
    const { managed } = selectManageable(
      all,
      (name) => this.#excludedName(name),
      this.#selfPid,
    );
    const readings = this.#host.counters.sample(managed);
    const { pins, warnings } = await this.#host.pins.read();
    for (const w of warnings) this.events.emit("error", w);
    if (this.#detection.present) this.#mitosis = await this.#host.mitosis.read();
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
        stuck: this.#actuator.holds(s.process, s.process.state),
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

    const counterStatus = this.#host.counters.status();
    const wallNow = this.#host.clock.wallNow();
    const snapshot = composeSnapshot({
      host: this.#host,
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
        ptl_error: this.#latency.error,
        ptl_method: ptlMethodJson(this.#latency.method, this.#latency.budget, this.#config),
      },
      mitosis: this.#mitosis,
      measurement: this.#latency.measurement,
      steering: this.#latency.snapshotSteering(),
      events: this.events.takeNew(),
      wallNow,
      tickMs: performance.now() - started,
    });
    // After the sample, not during it: a refresh of a millisecond or so then
    // runs while the daemon is otherwise idle and has ended by the next tick.
    this.#ptl.poll();
    return snapshot;
  }

  /**
   * The exclusion list applied to a name, remembered: thousands of processes
   * share a few names (2000 `sleep`s are one lookup, not 2000 glob matches).
   */
  #excludedName(name: string): boolean {
    let excluded = this.#excludedNames.get(name);
    if (excluded === undefined) {
      if (this.#excludedNames.size >= 4096) this.#excludedNames.clear();
      excluded = isExcludedName(name, this.#config.exclude);
      this.#excludedNames.set(name, excluded);
    }
    return excluded;
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
    if (d.action === "enable") this.#actuator.enable(target, d.reason, this.#latency.array);
    else this.#actuator.disable(target, d.reason);
  }

  #onMeasurement(r: PtlMeasured): void {
    const news = this.#latency.measured(r.measurement, r);
    if (news.log !== null) this.events.emit("probe", news.log);
    if (news.changed && this.enforcing) {
      this.#actuator.pushSteering(news.array, "latency matrix changed");
    }
  }

  #onPtlError(error: string): void {
    this.#latency.failed(error);
    this.events.emit("error", `PTL measurement failed: ${error}`);
  }

  // ------------------------------------------------------------ DaemonControl

  remeasure(): void {
    this.#latency.askedToRemeasure();
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
    void this.#host.pins.set(key, state, this.#host.clock.wallNow()).then(() => {
      this.events.emit(
        "pin",
        `${label(target)} ${state === null ? "unpinned" : `pinned ${state}`}`,
        key.pid,
      );
      if (!this.enforcing || state === null) return;
      if (state === "on") this.#actuator.enable(target, "pinned on by hand", this.#latency.array);
      else this.#actuator.disable(target, "pinned off by hand");
    }).catch((error) => this.events.emit("error", `pin failed: ${String(error)}`, key.pid));
  }

  setUpdateInterval(ms: number): void {
    const next = clampUpdateInterval(ms);
    if (next === this.#updateMs) return; // a repeat changes nothing: no event either
    this.#updateMs = next;
    this.events.emit("info", `update interval ${this.#updateMs} ms`);
  }

  stop(reason: string): void {
    if (this.stopReason === null) this.stopReason = reason;
    this.#stop.abort();
  }

  /**
   * Undo what the daemon changed: replication it turned on, the mode and
   * inherit values it found; then close the host. Returns one line per thing
   * undone (or left). Safe to call twice: the second call gets the same lines.
   */
  shutdown(): Promise<string[]> {
    this.#shutdown ??= this.#undo();
    return this.#shutdown;
  }

  /** `await using daemon = await Daemon.open(...)`: the undo when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #undo(): Promise<string[]> {
    // Each step runs whatever the one before did: a failure is one more line.
    const lines: string[] = [];
    const step = async (what: string, run: () => Promise<void>) => {
      try {
        await run();
      } catch (error) {
        lines.push(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    await step("stopping the PTL measurement", () => this.#ptl.stop());
    await step("the undo", async () => void lines.push(...await this.#actuator.undoAll()));
    await step(
      "restoring Mitosis settings",
      async () => void lines.push(...await this.#ops.restore()),
    );
    for (const line of lines) this.events.emit("undo", line);
    await step("closing the host", () => this.#host.close());
    return lines;
  }
}
