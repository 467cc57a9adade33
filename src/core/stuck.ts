/**
 * Stuck is a state to recover from: a process whose prctl(100) overran its
 * deadline is tried again, with a growing pause, once it is seen running
 * (a call on a stopped target would only block again). Pure: entries in,
 * entries and verdicts out; daemon/stuck_calls.ts keeps them and the daemon asks.
 */
import { isStopped } from "./process_state.ts";

/** First pause after an overrun; doubled per overrun in a row, up to RETRY_MAX_MS. */
export const RETRY_BASE_MS = 5_000;
export const RETRY_MAX_MS = 5 * 60_000;

export interface StuckEntry {
  /** The call that overran. */
  what: "enable" | "disable";
  /** Overruns in a row for this process. */
  attempts: number;
  /** When the first of them happened (ms, daemon clock). */
  sinceMs: number;
  /** Not tried again before this (ms, daemon clock). */
  retryAtMs: number;
  /** The abandoned call has not answered yet: it may still change the kernel. */
  pending: boolean;
}

/** The pause before try number `attempts + 1`. */
export function backoffMs(attempts: number): number {
  const doublings = Math.max(0, Math.min(attempts - 1, 30));
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** doublings);
}

/** The entry after one more overrun of `what` at `nowMs`. */
export function markStuck(
  previous: StuckEntry | undefined,
  what: StuckEntry["what"],
  nowMs: number,
): StuckEntry {
  const attempts = (previous?.attempts ?? 0) + 1;
  return {
    what,
    attempts,
    sinceMs: previous?.sinceMs ?? nowMs,
    retryAtMs: nowMs + backoffMs(attempts),
    pending: true,
  };
}

export type RetryVerdict = { due: true } | { due: false; why: string };

/**
 * May the process be called again? `state` is its one-letter state as seen
 * this tick (null: not seen). Due once it runs and the pause is over.
 */
export function retryVerdict(entry: StuckEntry, nowMs: number, state: string | null): RetryVerdict {
  if (state === null) return { due: false, why: "not seen" };
  if (isStopped(state)) {
    return { due: false, why: `stopped (state ${state}): tried again once it runs` };
  }
  if (nowMs < entry.retryAtMs) {
    return { due: false, why: `tried again in ${Math.ceil((entry.retryAtMs - nowMs) / 1000)} s` };
  }
  return { due: true };
}
