/**
 * The model of one simulated process and the pure maths that turns it into
 * what /proc and perf would show (ProcessInfo at time t, loads and page walks
 * between two instants). The scenario itself is in workloads.ts.
 *
 * Each workload's activity is a repeating cycle of constant phases (memory
 * access rate and dTLB miss ratio), so cumulative counts are exact integrals:
 * the MAR a consumer derives from two readings is exactly the model's.
 */
import { type ProcessInfo, type ProcessKey, processKeyString } from "../core/types.ts";

/** One constant stretch of activity. */
export interface Phase {
  durationMs: number;
  /** Memory access rate, loads/s over the whole process. */
  mar: number;
  /** Page walks per load. */
  dtlbRatio: number;
}

export interface Workload extends ProcessKey {
  name: string;
  cmdline: string;
  /** Simulated ms at which it appears; `startTime` (ticks since boot) follows from it. */
  startMs: number;
  /** Simulated ms at which it exits, or null = runs for ever. */
  endMs: number | null;
  state: "R" | "S" | "T";
  ppid: number;
  uid: number;
  threads: number;
  rssKb: number;
  kernelThread: boolean;
  /** Repeats for the workload's whole life; a single phase = constant activity. */
  cycle: Phase[];
  /** Share of enabled time the counters really run (perf multiplexing), (0, 1]. */
  multiplexShare: number;
  minorFaultsPerS: number;
  majorFaultsPerS: number;
  /** Page-table size (VmPTE), KiB. */
  pteKb: number;
  /** Cycles one page walk takes while its page tables are not replicated. */
  walkCyclesPerWalk: number;
  /** Share of those cycles replication removes (local page tables), 0..1. */
  replicationGain: number;
}

/** USER_HZ: /proc/PID/stat start times are in these ticks. */
export const CLOCK_TICKS_PER_S = 100;
/** The simulated machine booted this long before simulated time 0. */
export const BOOT_UPTIME_MS = 3_600_000;

export function startTicks(startMs: number): number {
  return Math.round(((BOOT_UPTIME_MS + startMs) * CLOCK_TICKS_PER_S) / 1000);
}

export function isLiveAt(w: Workload, tMs: number): boolean {
  return tMs >= w.startMs && (w.endMs === null || tMs < w.endMs);
}

function cycleLengthMs(w: Workload): number {
  return w.cycle.reduce((sum, p) => sum + p.durationMs, 0);
}

/** The phase in force at `tMs` (the workload must be live). */
export function activityAt(w: Workload, tMs: number): Phase {
  const length = cycleLengthMs(w);
  let offset = length > 0 ? (tMs - w.startMs) % length : 0;
  for (const phase of w.cycle) {
    if (offset < phase.durationMs) return phase;
    offset -= phase.durationMs;
  }
  const last = w.cycle[w.cycle.length - 1];
  if (last === undefined) throw new Error(`workload ${w.name} has an empty cycle`);
  return last;
}

/** ∫ rate dt from the workload's start to `tMs` (clamped to its life). */
function integralSinceStart(w: Workload, tMs: number, rate: (p: Phase) => number): number {
  const end = w.endMs === null ? tMs : Math.min(tMs, w.endMs);
  const lived = Math.max(0, end - w.startMs);
  const length = cycleLengthMs(w);
  const perCycle = w.cycle.reduce((sum, p) => sum + rate(p) * p.durationMs, 0);
  const fullCycles = length > 0 ? Math.floor(lived / length) : 0;
  let rest = lived - fullCycles * length;
  let total = fullCycles * perCycle;
  for (const phase of w.cycle) {
    const span = Math.min(rest, phase.durationMs);
    total += rate(phase) * span;
    rest -= span;
    if (rest <= 0) break;
  }
  return total / 1000; // rates are per second, spans in ms
}

/** Cycles one page walk of the workload takes, replicated or not. */
export function walkCyclesPerWalk(w: Workload, replicated: boolean): number {
  return w.walkCyclesPerWalk * (replicated ? 1 - w.replicationGain : 1);
}

/** Loads and page walks the workload performed between two instants. */
export function countsBetween(
  w: Workload,
  fromMs: number,
  toMs: number,
): { loads: number; walks: number } {
  const mar = (p: Phase) => p.mar;
  const walkRate = (p: Phase) => p.mar * p.dtlbRatio;
  return {
    loads: integralSinceStart(w, toMs, mar) - integralSinceStart(w, fromMs, mar),
    walks: integralSinceStart(w, toMs, walkRate) - integralSinceStart(w, fromMs, walkRate),
  };
}

/** What /proc/PID/stat would show for the workload at `tMs` (it must be live). */
export function processInfoAt(w: Workload, tMs: number): ProcessInfo {
  const aliveS = Math.max(0, tMs - w.startMs) / 1000;
  // Resident memory ramps up over the first 10 s as the workload touches its data.
  const rampShare = Math.min(1, 0.2 + aliveS / 10);
  // A stopped process neither faults nor grows: its counters stay where they were.
  const faultingS = w.state === "T" ? 0 : aliveS;
  return {
    pid: w.pid,
    startTime: w.startTime,
    id: processKeyString(w),
    name: w.name,
    state: w.state,
    ppid: w.ppid,
    uid: w.uid,
    threads: w.threads,
    rssKb: Math.round(w.rssKb * (w.state === "T" ? 1 : rampShare)),
    minorFaults: Math.floor(w.minorFaultsPerS * faultingS),
    majorFaults: Math.floor(w.majorFaultsPerS * faultingS),
    kernelThread: w.kernelThread,
  };
}

export function liveWorkloads(scenario: readonly Workload[], tMs: number): Workload[] {
  return scenario.filter((w) => isLiveAt(w, tMs)).sort((a, b) => a.pid - b.pid);
}

/** The workload a key names, if it is live at `tMs` (pid reuse: start time must match). */
export function findLive(
  scenario: readonly Workload[],
  key: ProcessKey,
  tMs: number,
): Workload | null {
  return scenario.find((w) =>
    w.pid === key.pid && w.startTime === key.startTime && isLiveAt(w, tMs)
  ) ?? null;
}
