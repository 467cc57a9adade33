/**
 * Rates and ratios from two cumulative readings taken `dtMs` apart. Pure.
 *
 * Rules, so that an unknown never shows as a number:
 * - an input that is null or not finite gives null;
 * - a counter that went backwards (a thread died and took its count with it,
 *   a process restarted under the same key, a scaled estimate that shrank)
 *   gives null for that tick, never a negative rate;
 * - a ratio with a zero or unknown denominator is null.
 */
import type { CounterReading, ProcessInfo } from "./types.ts";

export interface CounterRates {
  /** Memory access rate: loads per second. */
  mar: number | null;
  /** Page walks per load. */
  dtlbRatio: number | null;
  /** Share of the interval the counters were actually on the PMU, 0..1. */
  multiplex: number | null;
  /** Page-walk cycles per load; null = unknown (no walk-duration event). */
  walkCyclesPerLoad: number | null;
}

export interface FaultRates {
  minorPerS: number | null;
  majorPerS: number | null;
}

const UNKNOWN_RATES: CounterRates = {
  mar: null,
  dtlbRatio: null,
  multiplex: null,
  walkCyclesPerLoad: null,
};

/** cur - prev, or null when either is unknown or the counter went backwards. */
export function counterDelta(prev: number | null, cur: number | null): number | null {
  if (prev === null || cur === null) return null;
  if (!Number.isFinite(prev) || !Number.isFinite(cur)) return null;
  const delta = cur - prev;
  return delta < 0 ? null : delta;
}

/** Per-second rate of a delta over `dtMs`; null for unknown or a non-positive interval. */
export function perSecond(delta: number | null, dtMs: number): number | null {
  if (delta === null || !Number.isFinite(dtMs) || dtMs <= 0) return null;
  return delta / (dtMs / 1000);
}

/** numerator / denominator; null when either is unknown or the denominator is 0. */
export function ratio(numerator: number | null, denominator: number | null): number | null {
  if (numerator === null || denominator === null || denominator <= 0) return null;
  return numerator / denominator;
}

/**
 * MAR, dTLB ratio and multiplexing share between two readings of one process.
 * `prev` null (first sight of the process) gives all-null.
 */
export function counterRates(
  prev: CounterReading | null,
  cur: CounterReading | null,
  dtMs: number,
): CounterRates {
  if (prev === null || cur === null) return UNKNOWN_RATES;
  const loads = counterDelta(prev.loads, cur.loads);
  const walks = counterDelta(prev.walks, cur.walks);
  const enabled = counterDelta(prev.enabledNs, cur.enabledNs);
  const running = counterDelta(prev.runningNs, cur.runningNs);
  return {
    mar: perSecond(loads, dtMs),
    dtlbRatio: ratio(walks, loads),
    multiplex: multiplexShare(running, enabled),
    walkCyclesPerLoad: ratio(counterDelta(prev.walkCycles ?? null, cur.walkCycles ?? null), loads),
  };
}

/** running / enabled clamped to 0..1 (rounding can put running a hair above). */
export function multiplexShare(runningNs: number | null, enabledNs: number | null): number | null {
  const share = ratio(runningNs, enabledNs);
  return share === null ? null : Math.min(1, Math.max(0, share));
}

/**
 * Minor and major page faults per second from /proc/PID/stat counts. Null
 * when the two samples are not the same process (pid reused: start times
 * differ) or a count went backwards.
 */
export function faultRates(prev: ProcessInfo | null, cur: ProcessInfo, dtMs: number): FaultRates {
  if (prev === null || prev.pid !== cur.pid || prev.startTime !== cur.startTime) {
    return { minorPerS: null, majorPerS: null };
  }
  return {
    minorPerS: perSecond(counterDelta(prev.minorFaults, cur.minorFaults), dtMs),
    majorPerS: perSecond(counterDelta(prev.majorFaults, cur.majorFaults), dtMs),
  };
}
