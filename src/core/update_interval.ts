/**
 * The sampling interval's sane bounds (`-u`, `+`/`-`): shorter than 100 ms
 * costs more than it tells; longer than a minute misses whole workloads.
 */
export const MIN_UPDATE_MS = 100;
export const MAX_UPDATE_MS = 60_000;

/** `ms` rounded to a whole millisecond and kept within the bounds. Pure. */
export function clampUpdateInterval(ms: number): number {
  return Math.min(MAX_UPDATE_MS, Math.max(MIN_UPDATE_MS, Math.round(ms)));
}
