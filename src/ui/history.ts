/**
 * The last minute of every shown process's MAR and walk ratio, for the
 * detail view's sparklines: the screen keeps it (the daemon keeps no
 * history), fed one snapshot at a time. Bounded: points older than a minute
 * go, and so does every process the snapshot no longer has.
 */
import type { ProcessJson, Snapshot } from "../core/snapshot.ts";

export const HISTORY_MS = 60_000;

export interface HistoryPoint {
  /** Snapshot time, ms since the epoch. */
  atMs: number;
  mar: number | null;
  dtlb: number | null;
}

const keyOf = (p: Pick<ProcessJson, "pid" | "start_time">) => `${p.pid}/${p.start_time}`;

export class ProcessHistory {
  #byKey = new Map<string, HistoryPoint[]>();
  #lastAtMs = -Infinity;

  /** Add a snapshot's figures; a snapshot seen twice (or older) adds nothing. */
  record(s: Snapshot): void {
    const atMs = Date.parse(s.time);
    if (!Number.isFinite(atMs) || atMs <= this.#lastAtMs) return;
    this.#lastAtMs = atMs;
    const next = new Map<string, HistoryPoint[]>();
    for (const p of s.processes) {
      const key = keyOf(p);
      const points = this.#byKey.get(key) ?? [];
      points.push({ atMs, mar: p.mar, dtlb: p.dtlb_ratio });
      let drop = 0;
      while (drop < points.length && points[drop]!.atMs < atMs - HISTORY_MS) drop++;
      next.set(key, drop === 0 ? points : points.slice(drop));
    }
    this.#byKey = next;
  }

  of(p: Pick<ProcessJson, "pid" | "start_time">): readonly HistoryPoint[] {
    return this.#byKey.get(keyOf(p)) ?? [];
  }
}

/**
 * Levels in ASCII, lowest first: the Unicode block elements are of
 * ambiguous width (two columns in a CJK locale), which the screen never
 * risks (sanitize.ts).
 */
const BARS = "_.,:-=+*#";
/** An unknown sample: not the lowest level, which would read as a quiet one. */
export const SPARK_UNKNOWN = "?";

/**
 * The last `width` values as levels from 0 (_) to the largest (#). Zero is
 * the floor, not the smallest value, so a steady line looks steady.
 */
export function sparkline(values: readonly (number | null)[], width: number): string {
  const shown = values.slice(-Math.max(0, width));
  const known = shown.filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.max(0, ...known);
  return shown.map((v) => {
    if (v === null || !Number.isFinite(v)) return SPARK_UNKNOWN;
    if (max <= 0) return BARS[0]!;
    const i = Math.round((Math.max(0, v) / max) * (BARS.length - 1));
    return BARS[Math.min(BARS.length - 1, i)]!;
  }).join("");
}
