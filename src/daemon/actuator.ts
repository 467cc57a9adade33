/**
 * Carries out the policy's decisions against the kernel, safely:
 * - the pid + start time is re-confirmed right before every call (pid reuse);
 * - a process in state T/t is never called (prctl 100 would block forever);
 * - prctl 100 goes through `MitosisControl.setReplication` with a deadline; an
 *   overrun marks the process `stuck` and it is never retried;
 * - one call per process at a time; calls are started, not awaited, by the
 *   tick, so ticks, keys and redraws go on while the kernel is slow.
 * It remembers what it turned on, so the daemon can undo exactly that.
 */
import type { EventLog } from "../core/events.ts";
import type { ActionKind } from "../core/snapshot.ts";
import { type ActionResult, type ProcessKey, processKeyString } from "../core/types.ts";
import type { Host } from "../host.ts";
import { isStopped } from "../core/process_state.ts";
import type { ReplicationObserver } from "./ownership.ts";

/** prctl(100) arg2: replicate on all online nodes. */
export const REPLICATE_ALL_NODES = 1;
export const REPLICATE_OFF = 0;

export interface ManagedProcess extends ProcessKey {
  name: string;
}

/** Longest the whole undo may take: a few prctl deadlines, then waspd exits anyway. */
export const UNDO_BUDGET_MS = 10_000;

export class Actuator {
  readonly #host: Host;
  readonly #events: EventLog;
  readonly #deadlineMs: number;
  /** Processes waspd turned replication on for (and has not turned off). */
  readonly enabled = new Map<string, ManagedProcess>();
  /** Processes whose prctl 100 overran its deadline. */
  readonly stuck = new Map<string, ManagedProcess>();
  readonly #inflight = new Map<string, Promise<void>>();
  /** Told before and after each prctl(100): the crash-safe ownership record. */
  readonly #observer: ReplicationObserver | null;

  constructor(
    host: Host,
    events: EventLog,
    deadlineMs: number,
    observer: ReplicationObserver | null = null,
  ) {
    this.#host = host;
    this.#events = events;
    this.#deadlineMs = deadlineMs;
    this.#observer = observer;
  }

  /** Start turning replication on; `steering` (8 entries) is pushed once it is on. */
  enable(target: ManagedProcess, reason: string, steering: readonly number[] | null): void {
    this.#run(target, () => this.#enable(target, reason, steering));
  }

  disable(target: ManagedProcess, reason: string): void {
    this.#run(target, () => this.#disable(target, reason));
  }

  /** Push steering to every process waspd replicated. */
  pushSteering(steering: readonly number[], reason: string): void {
    for (const target of this.enabled.values()) {
      this.#run(target, () => this.#steer(target, steering, reason));
    }
  }

  /** A process has exited: the kernel freed its replicas with its memory. */
  forget(key: ProcessKey): void {
    this.enabled.delete(processKeyString(key));
    this.#observer?.forget(key);
  }

  /** Own replication a previous waspd turned on (it died without its undo): undone at exit. */
  adopt(target: ManagedProcess): void {
    this.enabled.set(processKeyString(target), target);
  }

  /**
   * Turn off everything waspd turned on (re-confirming each process first);
   * stuck and stopped processes are reported, not called. One line per
   * process. The whole undo stays within `budgetMs` on the host's clock:
   * each call gets the deadline or what is left of the budget, whichever is
   * less, and a process reached after the budget is spent is reported as
   * left on, so a slow kernel can delay an exit but never hold it.
   */
  async undoAll(budgetMs: number = UNDO_BUDGET_MS): Promise<string[]> {
    const clock = this.#host.clock;
    const endMs = clock.now() + budgetMs;
    const left = () => endMs - clock.now();
    // Calls under way finish within their own deadline, or the budget.
    const settled = new AbortController();
    await Promise.race([
      this.settle().finally(() => settled.abort()),
      clock.sleep(Math.max(0, left()), settled.signal),
    ]);
    settled.abort();
    const lines: string[] = [];
    for (const target of [...this.enabled.values()]) {
      this.enabled.delete(processKeyString(target));
      if (left() <= 0) {
        lines.push(`left on: ${label(target)}: the undo ran out of time (${budgetMs} ms)`);
        continue;
      }
      const now = await this.#host.confirm(target);
      if (now === null) {
        this.#observer?.forget(target);
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
      const deadline = Math.max(1, Math.min(this.#deadlineMs, left()));
      const result = await this.#observed(
        target,
        false,
        "undo on exit",
        () => this.#host.mitosis.setReplication(target, REPLICATE_OFF, deadline),
      );
      if (result.ok) lines.push(`replication turned off for ${label(target)}`);
      else lines.push(`could not turn replication off for ${label(target)}: ${result.message}`);
    }
    for (const target of this.stuck.values()) {
      lines.push(
        `left as is: ${label(target)} is stuck in prctl (stopped?); ` +
          `replication may turn on when it runs: check with 'waspd status'`,
      );
    }
    return lines;
  }

  /** Wait for calls under way (each is bounded by the deadline). */
  async settle(): Promise<void> {
    await Promise.all([...this.#inflight.values()]);
  }

  #run(target: ManagedProcess, work: () => Promise<void>): void {
    const key = processKeyString(target);
    if (this.#inflight.has(key) || this.stuck.has(key)) return;
    const done = work().catch((error) => {
      this.#events.emit("error", `${label(target)}: ${String(error)}`, target.pid);
    }).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, done);
  }

  /** Confirm identity and runnability; emits why not and returns false. */
  async #confirm(target: ManagedProcess, what: ActionKind): Promise<boolean> {
    const now = await this.#host.confirm(target);
    if (now === null) {
      this.enabled.delete(processKeyString(target));
      this.#events.emit(
        "info",
        `${what} ${label(target)} skipped: the process is gone`,
        target.pid,
        { action: { kind: what, result: "skipped" } },
      );
      return false;
    }
    if (isStopped(now.state)) {
      this.#events.emit(
        "info",
        `${what} ${label(target)} skipped: the process is stopped (state ${now.state}); ` +
          "prctl would block until it runs",
        target.pid,
        { action: { kind: what, result: "skipped" }, severity: "warning" },
      );
      return false;
    }
    return true;
  }

  async #enable(target: ManagedProcess, reason: string, steering: readonly number[] | null) {
    if (!(await this.#confirm(target, "enable"))) return;
    const result = await this.#observed(
      target,
      true,
      reason,
      () => this.#host.mitosis.setReplication(target, REPLICATE_ALL_NODES, this.#deadlineMs),
    );
    if (!this.#record(target, "enable", result)) return;
    this.enabled.set(processKeyString(target), target);
    this.#events.emit("enable", `replication on for ${label(target)}: ${reason}`, target.pid, {
      action: { kind: "enable", result: "ok" },
    });
    if (steering !== null) await this.#steer(target, steering, "newly replicated");
  }

  async #disable(target: ManagedProcess, reason: string) {
    if (!(await this.#confirm(target, "disable"))) return;
    const result = await this.#observed(
      target,
      false,
      reason,
      () => this.#host.mitosis.setReplication(target, REPLICATE_OFF, this.#deadlineMs),
    );
    if (!this.#record(target, "disable", result)) return;
    this.enabled.delete(processKeyString(target));
    this.#events.emit("disable", `replication off for ${label(target)}: ${reason}`, target.pid, {
      action: { kind: "disable", result: "ok" },
    });
  }

  async #steer(target: ManagedProcess, steering: readonly number[], reason: string) {
    if ((await this.#host.confirm(target)) === null) return;
    const result = await this.#host.mitosis.setSteering(target, steering);
    if (!this.#record(target, "steer", result)) return;
    this.#events.emit(
      "steer",
      `steering [${steering.join(" ")}] pushed to ${label(target)} (${reason})`,
      target.pid,
      { action: { kind: "steer", result: "ok" } },
    );
  }

  /** A prctl(100) with the observer told before and after it. */
  async #observed(
    target: ManagedProcess,
    on: boolean,
    reason: string,
    call: () => Promise<ActionResult>,
  ): Promise<ActionResult> {
    this.#observer?.before(target, on, reason);
    const result = await call();
    this.#observer?.after(target, on, result);
    return result;
  }

  /** Log a failed call; returns whether it succeeded. */
  #record(target: ManagedProcess, what: ActionKind, result: ActionResult): boolean {
    if (result.ok) return true;
    if (result.stuck) {
      this.stuck.set(processKeyString(target), target);
      this.#events.emit(
        "error",
        `${what} ${label(target)} is stuck: ${result.message} (never retried)`,
        target.pid,
        { action: { kind: what, result: "stuck" } },
      );
    } else {
      this.#events.emit("error", `${what} ${label(target)}: ${result.message}`, target.pid, {
        action: { kind: what, result: "error" },
      });
    }
    return false;
  }
}

/**
 * `pid N (name)` with the raw name: event messages are data (JSON escapes
 * them in --json and --log) and every place that shows one sanitizes it
 * there, once, in the one notation (ui/sanitize.ts).
 */
export function label(p: ManagedProcess): string {
  return `pid ${p.pid} (${p.name})`;
}
