/**
 * The undo on exit: turn off everything waspd turned on, re-confirming each
 * process first, within a budget on the host's clock, so a slow kernel can
 * delay an exit but never hold it. Stuck and stopped processes are reported,
 * not called: a call on them would only block.
 */
import { isStopped } from "../core/process_state.ts";
import { processKeyString } from "../core/types.ts";
import type { Host } from "../host.ts";
import { label, type ManagedProcess, REPLICATE_OFF, setReplicationOwned } from "./managed.ts";
import type { Ownership } from "./ownership.ts";
import type { StuckCalls } from "./stuck_calls.ts";

/**
 * Longest the whole undo may take, then waspd exits anyway. A stuck call
 * costs only its own deadline, so this bounds the sum of many slow but
 * working calls (a loaded machine, a prctl helper that must start first):
 * long enough for those, and well inside systemd's 90 s stop timeout.
 */
export const UNDO_BUDGET_MS = 30_000;

/** The Actuator's state the undo works on. */
export interface UndoDeps {
  host: Host;
  /** The prctl deadline; each undo call gets at most this. */
  deadlineMs: number;
  stuck: StuckCalls;
  /** What waspd turned on: told as each is undone. */
  ownership: Ownership;
  /** Wait for the calls under way. */
  settle(): Promise<void>;
  /** A call is under way for this process (its key): it is undone after it settles. */
  busy(key: string): boolean;
}

/**
 * One line per process. Each call gets the deadline or what is left of the
 * budget, whichever is less, and a process reached after the budget is spent
 * is reported as left on. What waspd owns with no call under way is undone
 * first: calls still under way (an enable of another process on a slow
 * kernel) must not spend the budget the owned replications need.
 */
export async function undoAll(deps: UndoDeps, budgetMs: number): Promise<string[]> {
  const { host, ownership, stuck } = deps;
  const clock = host.clock;
  const endMs = clock.now() + budgetMs;
  const left = () => endMs - clock.now();
  const lines: string[] = [];
  // Each process once: one left on (stopped, out of time, refused) stays owned, on record.
  const tried = new Set<string>();
  const untried = () => ownership.owned().filter((t) => !tried.has(processKeyString(t)));
  const idle = untried().filter((t) => !deps.busy(processKeyString(t)));
  await undoEach(deps, idle, budgetMs, left, lines, tried);
  // Calls under way finish within their own deadline, or the budget.
  const settled = new AbortController();
  await Promise.race([
    deps.settle().finally(() => settled.abort()),
    clock.sleep(Math.max(0, left()), settled.signal),
  ]);
  settled.abort();
  // A stuck enable may have completed without its answer reaching us yet:
  // the kernel's list says so, and then it is waspd's to undo.
  for (const target of await stuck.completedEnables()) {
    lines.push(`the stuck enable of ${label(target)} completed: undoing it too`);
  }
  await undoEach(deps, untried(), budgetMs, left, lines, tried);
  for (const { target, entry } of stuck.all.values()) {
    if (!entry.pending) continue;
    lines.push(
      `left as is: ${label(target)} is stuck in prctl (stopped?); ` +
        `replication may turn ${entry.what === "enable" ? "on" : "off"} when it runs: ` +
        "check with 'waspd status'",
    );
  }
  return lines;
}

/** Turns each of `targets` off within what is `left` of the budget, noting it `tried`. */
async function undoEach(
  deps: UndoDeps,
  targets: readonly ManagedProcess[],
  budgetMs: number,
  left: () => number,
  lines: string[],
  tried: Set<string>,
): Promise<void> {
  const { host, ownership } = deps;
  for (const target of targets) {
    tried.add(processKeyString(target));
    if (left() <= 0) {
      lines.push(`left on: ${label(target)}: the undo ran out of time (${budgetMs} ms)`);
      continue;
    }
    const now = await host.confirm(target);
    if (now === null) {
      ownership.forget(target);
      lines.push(`${label(target)} has exited: nothing to undo`);
      continue;
    }
    if (isStopped(now.state)) {
      lines.push(
        `left on: ${
          label(target)
        } is stopped (state ${now.state}); prctl would block until it runs`,
      );
      continue;
    }
    const deadline = Math.max(1, Math.min(deps.deadlineMs, left()));
    // The whole call, a helper's start-up included, gets no more than what is left.
    const result = await setReplicationOwned(
      host,
      ownership,
      target,
      REPLICATE_OFF,
      "undo on exit",
      deadline,
      Math.max(1, left()),
    );
    if (result.ok) lines.push(`replication turned off for ${label(target)}`);
    else lines.push(`could not turn replication off for ${label(target)}: ${result.message}`);
  }
}
