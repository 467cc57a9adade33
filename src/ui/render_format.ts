/**
 * Number and time formats of the screen. Pure; `null` (unknown) always
 * becomes "-", never "0", so a missing counter cannot pass for a quiet one.
 */

import { cutToWidth, displayWidth } from "./sanitize.ts";

export const UNKNOWN = "-";

/** 21_000_000 -> "21.0M", 2100 -> "2.1k", 950 -> "950". */
export function formatSi(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return UNKNOWN;
  const abs = Math.abs(n);
  const units: [number, string][] = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [scale, unit] of units) {
    if (abs >= scale) {
      const v = n / scale;
      return `${Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1)}${unit}`;
    }
  }
  return abs >= 10 || Number.isInteger(n) ? n.toFixed(0) : n.toFixed(1);
}

/** A 0..1 ratio as a percentage with `digits` decimals. */
export function formatPercent(ratio: number | null, digits: number): string {
  if (ratio === null || !Number.isFinite(ratio)) return UNKNOWN;
  return (ratio * 100).toFixed(digits);
}

/** 412 -> "412ms", 3200 -> "3.2s", 95_000 -> "95s", 600_000 -> "10m". */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return UNKNOWN;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

/** Hysteresis countdown: "0.4s"; "" when none is running (not unknown: absent). */
export function formatCountdown(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "";
  return ms < 10_000 ? `${(Math.max(0, ms) / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/**
 * The clock shown in the header, from the snapshot's ISO time: "22:33:05".
 * Taken from the string, not from a Date, so the frame does not depend on
 * the machine's time zone. Malformed time -> "??:??:??".
 */
export function formatClock(iso: string): string {
  const m = /T(\d\d:\d\d:\d\d)/.exec(iso);
  return m?.[1] ?? "??:??:??";
}

/**
 * Pad or cut to exactly `width` columns (text already sanitized; a wide
 * character that would straddle the edge is cut and its column padded).
 */
export function fit(text: string, width: number, align: "left" | "right" = "left"): string {
  const cut = displayWidth(text) > width ? cutToWidth(text, width) : text;
  const pad = " ".repeat(Math.max(0, width - displayWidth(cut)));
  return align === "left" ? cut + pad : pad + cut;
}
