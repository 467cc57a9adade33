/**
 * What goes into the policy, per process, each tick (pure): counters turned
 * into rates, the kernel's replication view, and the daemon's standing
 * (pins, stuck, owned) folded into one PolicySample. What comes out of the
 * policy is turned into snapshot rows by snapshot_compose.ts.
 */
import type { PolicySample } from "../core/policy.ts";
import { counterRates, faultRates } from "../core/rates.ts";
import type { CounterReading, ProcessInfo } from "../core/types.ts";
import { isStopped } from "../core/process_state.ts";

export interface ProcessSignals {
  process: ProcessInfo;
  mar: number | null;
  dtlbRatio: number | null;
  multiplex: number | null;
  minorPerS: number | null;
  majorPerS: number | null;
  /** Page-walk cycles per load; null = unknown (no walk-duration event). */
  walkCyclesPerLoad: number | null;
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
    const key = process.id;
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
      walkCyclesPerLoad: rates.walkCyclesPerLoad,
      replicaNodes: nodes,
      replicated: replicas === null ? null : nodes !== null,
    };
  });
}

/** What the daemon knows of a process beyond its signals. */
export interface ProcessStanding {
  pinned: "on" | "off" | null;
  stuck: boolean;
  /** waspd turned its replication on (so waspd may turn it off). */
  ownedByWaspd: boolean;
  advisory: boolean;
  /** Page-table size, KiB (null = unknown). */
  pteKb: number | null;
  /** Nodes of the machine: what an enable replicates to. */
  nodes: number;
}

export function policySampleOf(s: ProcessSignals, standing: ProcessStanding): PolicySample {
  return {
    key: s.process,
    mar: s.mar,
    dtlb: s.dtlbRatio,
    replicated: s.replicated,
    pinned: standing.pinned,
    stuck: standing.stuck,
    stopped: isStopped(s.process.state),
    foreign: s.replicated === true && !standing.ownedByWaspd,
    advisory: standing.advisory,
    pteKb: standing.pteKb,
    walkCyclesPerLoad: s.walkCyclesPerLoad,
    // The kernel's list while replicated; an enable asks for every node.
    replicaNodes: s.replicaNodes?.length ?? standing.nodes,
  };
}
