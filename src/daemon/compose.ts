/**
 * One tick's Snapshot from its parts (pure): the per-process rows, the
 * decisions in play, and the daemon's, kernel's and probe's state, in the
 * schema every view renders.
 */
import type { PolicyDecision } from "../core/policy.ts";
import {
  type CapabilitiesJson,
  type DaemonJson,
  type EventJson,
  hostJson,
  mitosisJson,
  ptlJson,
  type Snapshot,
  SNAPSHOT_SCHEMA_VERSION,
  steeringJson,
} from "../core/snapshot.ts";
import type {
  MitosisState,
  ProcessKey,
  PtlMeasurement,
  Steering,
  Topology,
} from "../core/types.ts";
import { processKeyString } from "../core/types.ts";
import { decisionJsonOf, processJsonOf, type ProcessSignals } from "./assemble.ts";

export interface SnapshotParts {
  host: { simulated: boolean; hostname(): string; kernelRelease(): string };
  topology: Topology;
  capabilities: CapabilitiesJson;
  signals: readonly ProcessSignals[];
  decisions: ReadonlyMap<string, PolicyDecision>;
  pinOf: (key: ProcessKey) => "on" | "off" | null;
  counterSource: string | null;
  hasCounters: (key: string) => boolean;
  /** The daemon's settings and state; mode and counts are derived here. */
  daemon: Omit<DaemonJson, "mode" | "tracked" | "replicated">;
  mitosis: MitosisState | null;
  measurement: PtlMeasurement | null;
  steering: { steering: Steering; array: readonly number[] } | null;
  events: EventJson[];
  wallNow: number;
  tickMs: number;
}

export function composeSnapshot(p: SnapshotParts): Snapshot {
  const processes = p.signals.map((s) => {
    const key = processKeyString(s.process);
    return processJsonOf(
      s,
      p.decisions.get(key),
      p.pinOf(s.process),
      p.counterSource,
      p.hasCounters(key),
    );
  });
  const decisions = p.signals.flatMap((s) => {
    const d = p.decisions.get(processKeyString(s.process));
    const row = d === undefined ? null : decisionJsonOf(s.process, d);
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
    },
    mitosis: p.mitosis === null ? null : mitosisJson(p.mitosis),
    ptl: p.measurement === null ? null : ptlJson(p.measurement, p.wallNow),
    steering: p.steering === null ? null : steeringJson(p.steering.steering, p.steering.array),
    decisions,
    events: p.events,
    tick_ms: Math.round(p.tickMs * 100) / 100,
  };
}
