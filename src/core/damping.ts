/**
 * Damping of the enable, per process (pure): a process that flips back soon
 * after waspd turned its replication on earns a longer wait before its next
 * enable. The wait is the hysteresis doubled per remembered flip, capped at
 * `dampMaxMs`; a flip is forgotten FLIP_MEMORY_FACTOR x the cap after it
 * happened, so a process that stays calm that long is back to the plain
 * hysteresis. A process found to gain nothing from replication waits the whole
 * memory before it is tried again.
 *
 * Why: every enable copies the process's page tables to every node and every
 * disable frees them; a process that crosses the thresholds back and forth
 * faster than the hysteresis paid that cost dozens of times in minutes.
 */

/** A flip (or a no-gain verdict) is remembered this many caps long. */
export const FLIP_MEMORY_FACTOR = 3;

export interface DampingSettings {
  hysteresisMs: number;
  /** The longest wait damping imposes; 0 turns damping off. */
  dampMaxMs: number;
}

export interface DampingRecord {
  /** When the policy turned replication off soon after turning it on (oldest first). */
  flips: number[];
  /** When replication was last judged to bring no gain, or null. */
  noGainAtMs: number | null;
}

export const NO_DAMPING: DampingRecord = { flips: [], noGainAtMs: null };

/** How long flips and no-gain verdicts are remembered. */
export function flipMemoryMs(s: DampingSettings): number {
  return FLIP_MEMORY_FACTOR * s.dampMaxMs;
}

/** The record without what is too old to count at `nowMs`. */
export function forgetOld(r: DampingRecord, nowMs: number, s: DampingSettings): DampingRecord {
  const memory = flipMemoryMs(s);
  const flips = r.flips.filter((t) => nowMs - t < memory);
  const noGainAtMs = r.noGainAtMs !== null && nowMs - r.noGainAtMs < memory ? r.noGainAtMs : null;
  return flips.length === r.flips.length && noGainAtMs === r.noGainAtMs ? r : { flips, noGainAtMs };
}

/**
 * A disable by the policy: a flip when replication had been on for less
 * than the flip memory (a long-lived enable that ends is a change, not a flap).
 */
export function recordDisable(
  r: DampingRecord,
  nowMs: number,
  onSinceMs: number | null,
  noGain: boolean,
  s: DampingSettings,
): DampingRecord {
  if (s.dampMaxMs <= 0) return r;
  const quick = onSinceMs === null || nowMs - onSinceMs < flipMemoryMs(s);
  return {
    flips: quick ? [...r.flips, nowMs] : r.flips,
    noGainAtMs: noGain ? nowMs : r.noGainAtMs,
  };
}

export interface EnableHold {
  /** How long the signals must hold before the next enable. */
  holdMs: number;
  /** No enable before this time (a no-gain verdict's wait), or null. */
  notBeforeMs: number | null;
  /** True when damping made it longer than the hysteresis. */
  damped: boolean;
  /** Why, for the reason text ("3 flips in 30 min"); null when not damped. */
  why: string | null;
}

/** The wait before the next enable, given the (already trimmed) record. */
export function enableHold(r: DampingRecord, nowMs: number, s: DampingSettings): EnableHold {
  const base = s.hysteresisMs;
  if (s.dampMaxMs <= 0) return { holdMs: base, notBeforeMs: null, damped: false, why: null };
  const memory = flipMemoryMs(s);
  if (r.noGainAtMs !== null) {
    // The verdict's wait runs from the verdict, whatever the signals did meanwhile.
    return {
      holdMs: base,
      notBeforeMs: r.noGainAtMs + memory,
      damped: true,
      why: `no gain from replication ${minutes(nowMs - r.noGainAtMs)} ago`,
    };
  }
  const n = r.flips.length;
  if (n === 0) return { holdMs: base, notBeforeMs: null, damped: false, why: null };
  const holdMs = Math.min(Math.max(base, s.dampMaxMs), base * 2 ** Math.min(n, 40));
  return {
    holdMs,
    notBeforeMs: null,
    damped: holdMs > base,
    why: `${n} flip${n === 1 ? "" : "s"} in ${minutes(memory)}`,
  };
}

/** "30 min", "45 s": whole units, for reasons. */
export function minutes(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}
