/**
 * What comes out of one tick (pure): its Snapshot from its parts, the
 * per-process rows, the decisions in play, and the daemon's, kernel's and
 * probe's state, in the schema every view renders. The policy's inputs are
 * built by policy_inputs.ts.
 */
import type { DampingView, PolicyDecision } from "../core/policy.ts";
import {
  type CapabilitiesJson,
  type DaemonJson,
  type DampingJson,
  type DecisionJson,
  type EventJson,
  hostJson,
  mitosisJson,
  type ProcessJson,
  ptlJson,
  type Snapshot,
  SNAPSHOT_SCHEMA_VERSION,
  steeringJson,
} from "../core/snapshot.ts";
import type {
  KeyedProcess,
  MitosisState,
  PtlMeasurement,
  Steering,
  Topology,
} from "../core/types.ts";
import { maskOfNodes } from "../core/replication_mask.ts";
import type { ProcessSignals } from "./policy_inputs.ts";

export interface SnapshotParts {
  host: { simulated: boolean; hostname(): string; kernelRelease(): string };
  topology: Topology;
  capabilities: CapabilitiesJson;
  signals: readonly ProcessSignals[];
  decisions: ReadonlyMap<string, PolicyDecision>;
  pinOf: (key: KeyedProcess) => "on" | "off" | null;
  counterSource: string | null;
  hasCounters: (key: string) => boolean;
  /** Page-table size by process key, KiB (null = unknown). */
  pteKbOf?: (key: string) => number | null;
  /** The daemon's settings and state; mode, counts and totals are derived here. */
  daemon: Omit<DaemonJson, "mode" | "tracked" | "replicated" | "replica_kb_total">;
  mitosis: MitosisState | null;
  measurement: PtlMeasurement | null;
  steering: { steering: Steering; array: readonly number[] } | null;
  events: EventJson[];
  wallNow: number;
  tickMs: number;
}

export function composeSnapshot(p: SnapshotParts): Snapshot {
  const processes = p.signals.map((s) => {
    const key = s.process.id;
    return processJsonOf(
      s,
      p.decisions.get(key),
      p.pinOf(s.process),
      p.counterSource,
      p.hasCounters(key),
      p.pteKbOf?.(key) ?? null,
    );
  });
  const decisions = p.signals.flatMap((s) => {
    const d = p.decisions.get(s.process.id);
    const row = d === undefined ? null : decisionJsonOf(s, d);
    return row === null ? [] : [row];
  });
  return {
    schema: SNAPSHOT_SCHEMA_VERSION,
    simulated: p.host.simulated,
    time: new Date(p.wallNow).toISOString(),
    host: hostJson(p.topology, p.host.hostname(), p.host.kernelRelease()),
    capabilities: p.capabilities,
    processes,
    daemon: {
      ...p.daemon,
      mode: p.capabilities.mode,
      tracked: processes.length,
      // Replicated as the kernel says, or as advisory mode would have made it.
      replicated: processes.filter((r) => r.replicated === true || r.status === "would-enable")
        .length,
      replica_kb_total: processes.reduce((sum, r) => sum + (r.replica_kb ?? 0), 0),
    },
    mitosis: p.mitosis === null ? null : mitosisJson(p.mitosis),
    ptl: p.measurement === null ? null : ptlJson(p.measurement, p.wallNow),
    steering: p.steering === null ? null : steeringJson(p.steering.steering, p.steering.array),
    decisions,
    events: p.events,
    tick_ms: Math.round(p.tickMs * 100) / 100,
  };
}

function processJsonOf(
  s: ProcessSignals,
  decision: PolicyDecision | undefined,
  pinned: "on" | "off" | null,
  counterSource: string | null,
  hasCounters: boolean,
  pteKb: number | null,
): ProcessJson {
  const p = s.process;
  return {
    pid: p.pid,
    start_time: p.startTime,
    name: p.name,
    state: p.state,
    threads: p.threads,
    rss_kb: p.rssKb,
    mar: s.mar,
    dtlb_ratio: s.dtlbRatio,
    multiplex: s.multiplex,
    minflt_per_s: s.minorPerS,
    majflt_per_s: s.majorPerS,
    counter_source: hasCounters ? counterSource : null,
    replicated: s.replicated,
    replica_nodes: s.replicaNodes,
    replica_mask: s.replicaNodes === null ? null : maskOfNodes(s.replicaNodes),
    status: decision?.status ?? "n/a",
    reason: decision?.reason ?? "not decided yet",
    countdown_ms: decision?.countdownMs ?? null,
    pinned,
    pte_kb: pteKb,
    replica_kb: replicaKbOf(s, decision, pteKb),
    walk_cycles_per_load: s.walkCyclesPerLoad,
    walk_cycles_before: decision?.walkBefore ?? null,
    walk_cycles_after: decision?.walkAfter ?? null,
    damping: dampingJsonOf(decision?.damping ?? null),
  };
}

/**
 * The memory its replicas take: the kernel's view where there is one (an
 * enable made this tick shows from the next), else the policy's belief
 * (advisory mode's would-enable; no Mitosis to ask).
 */
function replicaKbOf(
  s: ProcessSignals,
  decision: PolicyDecision | undefined,
  pteKb: number | null,
): number | null {
  if (s.replicated === true) {
    const copies = Math.max(0, (s.replicaNodes?.length ?? 0) - 1);
    return pteKb === null ? null : pteKb * copies;
  }
  if (decision?.status === "would-enable" || s.replicated === null) {
    return decision?.replicaKb ?? null;
  }
  return 0;
}

function dampingJsonOf(d: DampingView | null): DampingJson | null {
  if (d === null) return null;
  return {
    flips: d.flips,
    hold_ms: d.holdMs,
    damped: d.damped,
    no_gain: d.noGain,
    not_before_ms: d.notBeforeInMs === null ? null : Math.round(d.notBeforeInMs),
  };
}

/** Decisions worth listing: those in play (not idle, not unknown). */
function decisionJsonOf(s: ProcessSignals, d: PolicyDecision): DecisionJson | null {
  const p = s.process;
  if (d.action === "none" && (d.status === "idle" || d.status === "n/a")) return null;
  return {
    pid: p.pid,
    start_time: p.startTime,
    name: p.name,
    status: d.status,
    action: d.action,
    reason: d.reason,
    countdown_ms: d.countdownMs,
  };
}
