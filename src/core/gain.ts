/**
 * What replication did for a process (pure): its page-walk cycles per load
 * before the enable against after it. Replication does not make a process
 * miss the TLB less; it makes each walk cheaper when the page tables were on
 * a remote node, so the figure that can show a gain is the walk's duration
 * (DTLB_LOAD_MISSES.WALK_ACTIVE on Intel) per load, not the walk count.
 *
 * - Before: the mean over the ticks the process waited for its enable.
 * - After: the mean over the ticks from the second one after the enable (the
 *   first interval straddles the enable) until GAIN_WINDOW_MS has passed.
 * - Judged once per enable; unknown figures (no walk-duration event) are
 *   never judged: the rule then does nothing.
 */

/** How long replication runs before its effect is judged. */
export const GAIN_WINDOW_MS = 30_000;
/** Replication that removes less than this share of the walk cycles per load gains nothing. */
export const MIN_GAIN = 0.05;

export interface Mean {
  sum: number;
  n: number;
}

export const EMPTY_MEAN: Mean = { sum: 0, n: 0 };

export function addTo(m: Mean, value: number | null | undefined): Mean {
  return value === null || value === undefined || !Number.isFinite(value)
    ? m
    : { sum: m.sum + value, n: m.n + 1 };
}

export function meanOf(m: Mean): number | null {
  return m.n === 0 ? null : m.sum / m.n;
}

export interface GainRecord {
  /** Walk cycles per load while waiting for the enable (accumulating while off). */
  off: Mean;
  /** The "before" figure fixed at the enable, or null (unknown). */
  before: number | null;
  /** Walk cycles per load since the enable (accumulating while on). */
  on: Mean;
  /** Samples seen since the enable (the first is skipped). */
  samplesOn: number;
  /** Judged for this enable already. */
  judged: boolean;
}

export const NO_GAIN_RECORD: GainRecord = {
  off: EMPTY_MEAN,
  before: null,
  on: EMPTY_MEAN,
  samplesOn: 0,
  judged: false,
};

/** The record at an enable: the waiting ticks' mean becomes "before". */
export function atEnable(g: GainRecord): GainRecord {
  return { off: EMPTY_MEAN, before: meanOf(g.off), on: EMPTY_MEAN, samplesOn: 0, judged: false };
}

/** One sample while on. */
export function whileOn(g: GainRecord, walkCyclesPerLoad: number | null | undefined): GainRecord {
  const samplesOn = g.samplesOn + 1;
  return { ...g, samplesOn, on: samplesOn === 1 ? g.on : addTo(g.on, walkCyclesPerLoad) };
}

export type GainVerdict =
  | { kind: "wait" }
  | { kind: "unknown" }
  | { kind: "gain"; before: number; after: number }
  | { kind: "none"; before: number; after: number };

/** Whether replication, on for `onForMs`, has shown a gain. */
export function judge(g: GainRecord, onForMs: number): GainVerdict {
  if (g.judged || onForMs < GAIN_WINDOW_MS) return { kind: "wait" };
  const after = meanOf(g.on);
  if (g.before === null || after === null || g.before <= 0) return { kind: "unknown" };
  return after <= g.before * (1 - MIN_GAIN)
    ? { kind: "gain", before: g.before, after }
    : { kind: "none", before: g.before, after };
}
