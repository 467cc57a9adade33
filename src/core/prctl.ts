/**
 * The prctl option numbers of the Mitosis+WASP kernel, in one place: the real
 * calls (src/sys/mitosis/), the simulated kernel (src/sim/) and the tests all
 * read them from here. A stock kernel answers every one of them with EINVAL.
 */

/** Set a process's replication mask (0 = off, 1 = all nodes, else a node mask). */
export const PR_SET_PGTABLE_REPL = 100;
/** Read the caller's replication mask; changes nothing. */
export const PR_GET_PGTABLE_REPL = 101;
/** Set the cache-only mode of a process. */
export const PR_SET_PGTABLE_CACHE_ONLY = 102;
/** Read the cache-only mode of a process. */
export const PR_GET_PGTABLE_CACHE_ONLY = 103;
/** Write a process's steering table (int32[STEERING_SLOTS]). */
export const PR_SET_PGTABLE_REPL_STEERING = 104;
/** Read a process's steering table (int32[STEERING_SLOTS]). */
export const PR_GET_PGTABLE_REPL_STEERING = 105;

import type { ActionResult, LateResult } from "./types.ts";

/** A call that failed or was refused: `errno` is the symbolic name (EINVAL, ETIMEDOUT...). */
export function failed(errno: string, message: string): Extract<ActionResult, { stuck: false }> {
  return { ok: false, stuck: false, errno, message };
}

/**
 * The one guard on a prctl target: pid 0 is the caller and 1 is init, never
 * what waspd means. The refusal, or null when `pid` may be called.
 */
export function refuseTarget(call: string, pid: number): ActionResult | null {
  return Number.isSafeInteger(pid) && pid > 1
    ? null
    : failed("EINVAL", `${call}: refusing pid ${pid}`);
}

/** A call that did not return within its deadline; `late` resolves with its answer, if ever. */
export function stuckResult(
  call: string,
  deadlineMs: number,
  late: LateResult,
  why = "target not running?",
): ActionResult {
  return {
    ok: false,
    stuck: true,
    message: `${call} did not return within ${deadlineMs} ms (${why})`,
    late,
  };
}
