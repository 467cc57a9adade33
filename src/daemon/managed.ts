/**
 * What the Actuator, the stuck-call bookkeeping and the undo on exit share:
 * the process they act on, how events name it, and the one way waspd makes a
 * prctl(100) — with the Ownership told before and after, so the crash-safe
 * record sees every call, the tick's and the undo's alike.
 */
import type { ActionResult, ManagedProcess } from "../core/types.ts";
import type { Host } from "../host.ts";
import type { Ownership } from "./ownership.ts";

export type { ManagedProcess };

/** prctl(100) arg2 that turns replication off (on: core/replication_mask.ts's mask). */
export const REPLICATE_OFF = 0;

/**
 * A prctl(100) with `mask` as arg2: the replication mask turns it on,
 * REPLICATE_OFF off; the Ownership is told the intent and the outcome.
 */
export async function setReplicationOwned(
  host: Host,
  ownership: Ownership,
  target: ManagedProcess,
  mask: number,
  reason: string,
  deadlineMs: number,
  withinMs?: number,
): Promise<ActionResult> {
  const on = mask !== REPLICATE_OFF;
  ownership.intend(target, on, reason);
  const result = withinMs === undefined
    ? await host.mitosis.setReplication(target, mask, deadlineMs)
    : await host.mitosis.setReplication(target, mask, deadlineMs, withinMs);
  ownership.settle(target, on, result);
  return result;
}

/**
 * `pid N (name)` with the raw name: event messages are data (JSON escapes
 * them in --json and --log) and every place that shows one sanitizes it
 * there, once, in the one notation (ui/sanitize.ts).
 */
export function label(p: ManagedProcess): string {
  return `pid ${p.pid} (${p.name})`;
}
