/**
 * What a stop signal (SIGINT, SIGTERM, SIGHUP) means, given when the daemon
 * began stopping. Pure: the caller supplies the times.
 *
 * One stop often arrives as several signals: `timeout 5 waspd` sends
 * SIGTERM to the child and then to its process group, a terminal's Ctrl-C
 * reaches every process of the foreground group, a supervisor may send
 * SIGTERM and SIGHUP together. Such duplicates land within milliseconds of
 * each other and must never cut the undo short. A second signal a human
 * sends on purpose ("stop now") comes later; only that one forces the exit.
 */

/** Signals closer than this to the start of the stop are the same request. */
export const DUPLICATE_SIGNAL_MS = 1000;

export type SignalVerdict =
  /** The first: stop, undo, exit. */
  | "stop"
  /** Part of the same request: ignore it, let the undo finish. */
  | "duplicate"
  /** A deliberate second request: exit now, undo or not. */
  | "force";

/**
 * @param stoppingSinceMs when the daemon began stopping (a signal, q, an
 *   error), or null while it runs
 * @param nowMs when this signal arrived, on the same monotonic clock
 * @param signal which signal it is: a SIGHUP never forces. It is a terminal
 *   going away (which also ends the screen's input and output, so the stop
 *   may have begun from those, a busy second or more before the signal is
 *   handled) or a supervisor: never a person insisting on "exit now".
 */
export function judgeSignal(
  stoppingSinceMs: number | null,
  nowMs: number,
  signal: "SIGINT" | "SIGTERM" | "SIGHUP" = "SIGTERM",
): SignalVerdict {
  if (stoppingSinceMs === null) return "stop";
  if (signal === "SIGHUP") return "duplicate";
  return nowMs - stoppingSinceMs < DUPLICATE_SIGNAL_MS ? "duplicate" : "force";
}
