/**
 * One sample -> decide (pure policy) -> act round of the daemon, and what it
 * remembers from one round to the next (policy state, the last counter
 * readings, the statuses already reported). The loop around it, the start
 * and the undo are the Daemon's.
 */
import { errorMessage } from "../core/error_message.ts";
import { capabilitiesJson } from "../core/capabilities.ts";
import { selectManageable } from "../core/discovery.ts";
import type { EventLog } from "../core/events.ts";
import {
  classify,
  decideAll,
  type PolicyDecision,
  type PolicyState,
  type PolicyThresholds,
} from "../core/policy.ts";
import { ptlMethodJson, type Snapshot } from "../core/snapshot.ts";
import type {
  CounterReading,
  KeyedProcess,
  MitosisDetection,
  MitosisState,
  ProcessInfo,
  ProcessKey,
  Topology,
} from "../core/types.ts";
import { processKeyString } from "../core/types.ts";
import { replicationMask } from "../core/replication_mask.ts";
import { isExcludedName } from "../config.ts";
import type { Config } from "../options.ts";
import type { Host, Privileges } from "../host.ts";
import type { Actuator } from "./actuator.ts";
import type { Ownership } from "./ownership.ts";
import { label } from "./managed.ts";
import type { LatencyState } from "./latency_state.ts";
import { policySampleOf, signalsOf } from "./policy_inputs.ts";
import type { PtlScheduler } from "./ptl.ts";
import { composeSnapshot } from "./snapshot_compose.ts";
import { PageTables } from "./page_tables.ts";

/** What several parts of the daemon read and one of them updates. */
export interface LiveMachine {
  /** Re-read by the PTL measurement. */
  topology: Topology;
  /** Re-read every tick (when Mitosis is present). */
  mitosis: MitosisState | null;
  /** Changed by the operator (`+`/`-`). */
  updateMs: number;
  /** The operator holds the policy's own decisions (`a`): it advises; pins still act. */
  autoHeld: boolean;
}

export interface TickerParts {
  host: Host;
  config: Config;
  selfPid: number;
  events: EventLog;
  actuator: Actuator;
  /** Asked whether waspd owns a process's replication. */
  ownership: Ownership;
  latency: LatencyState;
  ptl: PtlScheduler;
  privileges: Privileges;
  detection: MitosisDetection;
  live: LiveMachine;
  enforcing: boolean;
}

export class Ticker {
  readonly #p: TickerParts;
  #tick = 0;
  #policy = new Map<string, PolicyState>();
  #statuses = new Map<string, string>();
  #readings = new Map<string, CounterReading>();
  #processes = new Map<string, ProcessInfo>();
  #lastSampleMs: number | null = null;
  readonly #excludedNames = new Map<string, boolean>();
  readonly #pageTables: PageTables;

  constructor(parts: TickerParts) {
    this.#p = parts;
    const host = parts.host;
    this.#pageTables = new PageTables(
      host.pageTablesKb === undefined ? null : (key) => host.pageTablesKb?.(key) ?? null,
    );
  }

  /** The policy's settings, from the configuration. */
  #thresholds(): PolicyThresholds {
    const c = this.#p.config;
    return {
      thrMar: c.thrMar,
      thrDtlb: c.thrDtlb,
      hysteresisMs: c.hysteresisMs,
      dampMaxMs: c.dampMaxMs,
      minPteKb: c.minPteKb,
      replicaCapKb: c.replicaCapMb === null ? null : c.replicaCapMb * 1024,
    };
  }

  /** The managed process of the last round with this key, if any. */
  process(key: ProcessKey): ProcessInfo | undefined {
    return this.#processes.get(processKeyString(key));
  }

  /** One sample-decide-act round; returns the snapshot of it. */
  async tick(): Promise<Snapshot> {
    const { host, config, events, actuator, ownership, latency, live } = this.#p;
    const started = performance.now();
    const now = host.clock.now();
    this.#tick++;
    let all: ProcessInfo[] = [];
    try {
      all = await host.processes();
    } catch (error) {
      events.emit("error", `reading processes failed: ${errorMessage(error)}`);
    }
    const { managed } = selectManageable(
      all,
      (name) => this.#excludedName(name),
      this.#p.selfPid,
    );
    const readings = host.counters.sample(managed);
    const { pins, warnings } = await host.pins.read();
    for (const w of warnings) events.emit("error", w);
    for (const w of host.takeWarnings?.() ?? []) events.emit("error", w);
    if (this.#p.detection.present) live.mitosis = await host.mitosis.read();
    const mitosis = live.mitosis;
    const replicas = mitosis === null
      ? null
      : new Map(mitosis.active.filter((a) => a.live).map((a) => [a.pid, a.nodes]));
    const dtMs = this.#lastSampleMs === null ? 0 : now - this.#lastSampleMs;
    const signals = signalsOf(managed, readings, this.#readings, this.#processes, replicas, dtMs);

    const pinOf = (k: KeyedProcess) => pins.get(k.id)?.state ?? null;
    const counterStatus = host.counters.status();
    // The counters say what they count: a reason names software signals as such.
    const thresholds = { ...this.#thresholds(), signals: counterStatus.signals };
    // In play: candidates, replicated (or believed so), pinned. Their page
    // tables are read every tick; the others' only now and then.
    const inPlay = new Set(
      signals.filter((s) => {
        const key = s.process.id;
        return s.replicated === true || this.#policy.get(key)?.on === true ||
          pins.has(key) || classify(s.mar, s.dtlbRatio, thresholds) === "above";
      }).map((s) => s.process.id),
    );
    const pteKb = this.#pageTables.update(managed, (key) => inPlay.has(key));
    // Replicas go only to nodes with CPUs (core/replication_mask.ts).
    const nodes = live.topology.nodes.filter((n) => n.cpus.length > 0).length;
    const samples = signals.map((s) => {
      const key = s.process.id;
      return policySampleOf(s, {
        pinned: pinOf(s.process),
        stuck: actuator.holds(s.process, s.process.state),
        ownedByWaspd: ownership.owns(key),
        advisory: this.#advisory(pinOf(s.process)),
        pteKb: pteKb.get(key) ?? null,
        nodes,
      });
    });
    const round = decideAll(this.#policy, samples, now, thresholds);
    for (const s of signals) {
      const d = round.decisions.get(s.process.id);
      if (d !== undefined) this.#act(s.process, d, pinOf(s.process));
    }
    // A process that exited took its replicas with it: nothing to undo later.
    for (const gone of round.gone) actuator.forget(gone.key);
    this.#policy = round.states;
    this.#readings = new Map(readings);
    this.#processes = new Map(managed.map((p) => [p.id, p]));
    this.#lastSampleMs = now;

    const mask = replicationMask(live.topology);
    const wallNow = host.clock.wallNow();
    const snapshot = composeSnapshot({
      host,
      topology: live.topology,
      capabilities: capabilitiesJson(this.#p.privileges, counterStatus, this.#p.detection),
      signals,
      decisions: round.decisions,
      pinOf,
      counterSource: counterStatus.source,
      hasCounters: (key) => readings.has(key),
      pteKbOf: (key) => pteKb.get(key) ?? null,
      daemon: {
        tick: this.#tick,
        update_ms: live.updateMs,
        ptl_interval_ms: config.ptlIntervalMs,
        hysteresis_ms: config.hysteresisMs,
        thr_mar: config.thrMar,
        thr_dtlb: config.thrDtlb,
        damp_max_ms: config.dampMaxMs,
        min_pte_kb: config.minPteKb,
        replica_cap_kb: thresholds.replicaCapKb ?? null,
        sample_ms: dtMs > 0 ? dtMs : null,
        ptl_measuring: this.#p.ptl.measuring,
        ptl_error: latency.error,
        ptl_method: ptlMethodJson(latency.method, latency.budget, config),
        replication_mask: mask.ok ? mask.mask : null,
        replication_refused: mask.ok ? null : mask.reason,
      },
      mitosis,
      measurement: latency.measurement,
      steering: latency.snapshotSteering(),
      events: events.takeNew(),
      wallNow,
      tickMs: performance.now() - started,
    });
    // After the sample, not during it: a refresh of a millisecond or so then
    // runs while the daemon is otherwise idle and has ended by the next tick.
    this.#p.ptl.poll();
    return snapshot;
  }

  /** The exclusion list changed (a reload): names are matched afresh. */
  exclusionsChanged(): void {
    this.#excludedNames.clear();
  }

  /**
   * The exclusion list applied to a name, remembered: thousands of processes
   * share a few names (2000 `sleep`s are one lookup, not 2000 glob matches).
   */
  #excludedName(name: string): boolean {
    let excluded = this.#excludedNames.get(name);
    if (excluded === undefined) {
      if (this.#excludedNames.size >= 4096) this.#excludedNames.clear();
      excluded = isExcludedName(name, this.#p.config.exclude);
      this.#excludedNames.set(name, excluded);
    }
    return excluded;
  }

  /** Whether the policy only says what it would do for a process pinned so. */
  #advisory(pinned: "on" | "off" | null): boolean {
    return !this.#p.enforcing || (this.#p.live.autoHeld && pinned === null);
  }

  #act(process: ProcessInfo, d: PolicyDecision, pinned: "on" | "off" | null): void {
    const { events, actuator } = this.#p;
    const key = process.id;
    const target = { pid: process.pid, startTime: process.startTime, name: process.name };
    if (
      this.#statuses.get(key) !== d.status && (d.status === "watch" || d.status === "candidate")
    ) {
      events.emit("decision", `${label(target)} ${d.status}: ${d.reason}`, process.pid);
    }
    this.#statuses.set(key, d.status);
    if (d.action === "none") return;
    if (this.#advisory(pinned)) {
      events.emit("decision", `${label(target)}: ${d.reason}`, process.pid);
      return;
    }
    if (d.action === "enable") actuator.enable(target, d.reason, this.#p.latency.array);
    else actuator.disable(target, d.reason);
  }
}
