/**
 * Pure assembly of the per-process view of one tick: counters turned into
 * rates, the kernel's replication view, pins and the policy's decisions
 * folded into the snapshot's `processes` and `decisions` rows.
 */
import type { PolicyDecision, PolicySample } from "../core/policy.ts";
import { counterRates, faultRates } from "../core/rates.ts";
import type { DecisionJson, ProcessJson } from "../core/snapshot.ts";
import type { CounterReading, ProcessInfo } from "../core/types.ts";
import { processKeyString } from "../core/types.ts";

export interface ProcessSignals {
  process: ProcessInfo;
  mar: number | null;
  dtlbRatio: number | null;
  multiplex: number | null;
  minorPerS: number | null;
  majorPerS: number | null;
  /** Kernel's view from /proc/mitosis/active: nodes, or null when not replicated / unknown. */
  replicaNodes: number[] | null;
  replicated: boolean | null;
}

/**
 * Rates for every managed process between two ticks `dtMs` apart.
 * `replicas` is null when the kernel's view is unknown (no Mitosis).
 */
export function signalsOf(
  managed: readonly ProcessInfo[],
  readings: ReadonlyMap<string, CounterReading>,
  previousReadings: ReadonlyMap<string, CounterReading>,
  previousProcesses: ReadonlyMap<string, ProcessInfo>,
  replicas: ReadonlyMap<number, number[]> | null,
  dtMs: number,
): ProcessSignals[] {
  return managed.map((process) => {
    const key = processKeyString(process);
    const rates = counterRates(previousReadings.get(key) ?? null, readings.get(key) ?? null, dtMs);
    const faults = faultRates(previousProcesses.get(key) ?? null, process, dtMs);
    const nodes = replicas?.get(process.pid) ?? null;
    return {
      process,
      mar: rates.mar,
      dtlbRatio: rates.dtlbRatio,
      multiplex: rates.multiplex,
      minorPerS: faults.minorPerS,
      majorPerS: faults.majorPerS,
      replicaNodes: nodes,
      replicated: replicas === null ? null : nodes !== null,
    };
  });
}

const STOPPED_STATES: ReadonlySet<string> = new Set(["T", "t"]);

/** What the daemon knows of a process beyond its signals. */
export interface ProcessStanding {
  pinned: "on" | "off" | null;
  stuck: boolean;
  /** waspd turned its replication on (so waspd may turn it off). */
  ownedByWaspd: boolean;
  advisory: boolean;
}

export function policySampleOf(s: ProcessSignals, standing: ProcessStanding): PolicySample {
  return {
    key: { pid: s.process.pid, startTime: s.process.startTime },
    mar: s.mar,
    dtlb: s.dtlbRatio,
    replicated: s.replicated,
    pinned: standing.pinned,
    stuck: standing.stuck,
    stopped: STOPPED_STATES.has(s.process.state),
    foreign: s.replicated === true && !standing.ownedByWaspd,
    advisory: standing.advisory,
  };
}

export function processJsonOf(
  s: ProcessSignals,
  decision: PolicyDecision | undefined,
  pinned: "on" | "off" | null,
  counterSource: string | null,
  hasCounters: boolean,
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
    status: decision?.status ?? "n/a",
    reason: decision?.reason ?? "not decided yet",
    countdown_ms: decision?.countdownMs ?? null,
    pinned,
  };
}

/** Decisions worth listing: those in play (not idle, not unknown). */
export function decisionJsonOf(p: ProcessInfo, d: PolicyDecision): DecisionJson | null {
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
