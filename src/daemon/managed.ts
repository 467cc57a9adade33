/**
 * What the Actuator, the stuck-call bookkeeping and the undo on exit share:
 * the process they act on, how events name it, and the one way waspd makes a
 * prctl(100) — with the ownership observer told before and after, so the
 * crash-safe record sees every call, the tick's and the undo's alike.
 */
import type { ActionResult, ProcessKey } from "../core/types.ts";
import type { Host } from "../host.ts";
import type { ReplicationObserver } from "./ownership.ts";

/** prctl(100) arg2: replicate on all online nodes. */
export const REPLICATE_ALL_NODES = 1;
export const REPLICATE_OFF = 0;

export interface ManagedProcess extends ProcessKey {
  name: string;
}

/** A prctl(100) turning replication `on` or off, with the observer told around it. */
export async function setReplicationObserved(
  host: Host,
  observer: ReplicationObserver | null,
  target: ManagedProcess,
  on: boolean,
  reason: string,
  deadlineMs: number,
  withinMs?: number,
): Promise<ActionResult> {
  observer?.before(target, on, reason);
  const mask = on ? REPLICATE_ALL_NODES : REPLICATE_OFF;
  const result = withinMs === undefined
    ? await host.mitosis.setReplication(target, mask, deadlineMs)
    : await host.mitosis.setReplication(target, mask, deadlineMs, withinMs);
  observer?.after(target, on, result);
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
