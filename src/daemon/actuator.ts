/**
 * Carries out the policy's decisions against the kernel, safely:
 * - the pid + start time is re-confirmed right before every call (pid reuse);
 * - a process in state T/t is never called (prctl 100 would block forever);
 * - prctl 100 goes through `MitosisControl.setReplication` with a deadline; an
 *   overrun marks the process `stuck`, a state it recovers from: it is tried
 *   again with a growing pause once it runs (core/stuck.ts), and when the
 *   abandoned call returns at last, the kernel's list of replicated processes
 *   says what it did (core/reconcile.ts);
 * - one call per process at a time; calls are started, not awaited, by the
 *   tick, so ticks, keys and redraws go on while the kernel is slow.
 * It remembers what it turned on, so the daemon can undo exactly that.
 */
import type { EventLog } from "../core/events.ts";
import { reconcileLate } from "../core/reconcile.ts";
import { markStuck, retryVerdict, type StuckEntry } from "../core/stuck.ts";
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
  /** Processes whose prctl 100 overran its deadline, and when to try them again. */
  readonly stuck = new Map<string, { target: ManagedProcess; entry: StuckEntry }>();
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
    this.stuck.delete(processKeyString(key));
    this.#observer?.forget(key);
  }

  /**
   * Is the process held by a stuck call this tick? Not once it runs (`state`
   * as sampled) and its pause is over: then the policy decides for it again.
   */
  holds(key: ProcessKey, state: string): boolean {
    const stuck = this.stuck.get(processKeyString(key));
    return stuck !== undefined && !retryVerdict(stuck.entry, this.#host.clock.now(), state).due;
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
    // A stuck enable may have completed without its answer reaching us yet:
    // the kernel's list says so, and then it is waspd's to undo.
    const replicated = await this.#replicatedPids();
    for (const [key, { target, entry }] of [...this.stuck]) {
      if (entry.what !== "enable" || !replicated?.has(target.pid)) continue;
      this.stuck.delete(key);
      this.enabled.set(key, target);
      lines.push(`the stuck enable of ${label(target)} completed: undoing it too`);
    }
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
    for (const { target, entry } of this.stuck.values()) {
      if (!entry.pending) continue;
      lines.push(
        `left as is: ${label(target)} is stuck in prctl (stopped?); ` +
          `replication may turn ${entry.what === "enable" ? "on" : "off"} when it runs: ` +
          "check with 'waspd status'",
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
    if (this.#inflight.has(key)) return;
    // A stuck process waits out its pause; #confirm then skips it while it is stopped.
    const stuck = this.stuck.get(key);
    if (stuck && this.#host.clock.now() < stuck.entry.retryAtMs) return;
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
    if (!this.#record(target, "enable", result, true)) return;
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
    if (!this.#record(target, "disable", result, true)) return;
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

  /** An abandoned call returned (or never will: null): the kernel's list says what it did. */
  async #reconcile(
    target: ManagedProcess,
    what: "enable" | "disable",
    late: ActionResult | null,
    entry: StuckEntry | null,
  ): Promise<void> {
    const key = processKeyString(target);
    // Only the entry this call made: a later overrun has its own call to wait for.
    const mine = entry !== null && this.stuck.get(key)?.entry === entry;
    if (entry) entry.pending = false;
    if ((await this.#host.confirm(target)) === null) {
      if (mine) this.stuck.delete(key);
      this.enabled.delete(key);
      this.#events.emit(
        "info",
        `late ${what} of ${label(target)} returned after the process exited: nothing to own`,
        target.pid,
      );
      return;
    }
    const replicated = await this.#replicatedPids();
    const verdict = reconcileLate({
      what,
      answer: late === null ? null : late.ok ? { ok: true } : {
        ok: false,
        errno: late.stuck ? "no answer" : late.errno,
      },
      replicated: replicated === null ? null : replicated.has(target.pid),
    }, label(target));
    // The call is over: the process is no longer held, the policy sees the kernel's state.
    if (mine) this.stuck.delete(key);
    if (verdict.owned === true) this.enabled.set(key, target);
    if (verdict.owned === false) this.enabled.delete(key);
    // The ownership record kept the intent of the stuck call: now it learns the outcome.
    const on = what === "enable";
    if (verdict.owned !== null) {
      this.#observer?.after(
        target,
        on,
        verdict.owned === on
          ? { ok: true }
          : { ok: false, stuck: false, errno: "ELATE", message: verdict.message },
      );
    }
    this.#events.emit(verdict.kind, verdict.message, target.pid);
  }

  /** Pids /proc/mitosis/active lists as replicated and live; null when unreadable. */
  async #replicatedPids(): Promise<Set<number> | null> {
    try {
      const state = await this.#host.mitosis.read();
      return new Set(state.active.filter((a) => a.live).map((a) => a.pid));
    } catch {
      return null;
    }
  }

  /**
   * Log a failed call; returns whether it succeeded. For prctl 100
   * (`replication`): an overrun marks the process stuck, any answer clears it,
   * and a call given up on is reconciled when it returns.
   */
  #record(
    target: ManagedProcess,
    what: ActionKind,
    result: ActionResult,
    replication = false,
  ): boolean {
    const key = processKeyString(target);
    if (replication && (result.ok || !result.stuck) && this.stuck.delete(key)) {
      this.#events.emit(
        "info",
        `${label(target)} is no longer stuck: ${what} answered`,
        target.pid,
      );
    }
    if (result.ok) return true;
    let entry: StuckEntry | null = null;
    if (result.stuck) {
      entry = markStuck(
        this.stuck.get(key)?.entry,
        what === "disable" ? "disable" : "enable",
        this.#host.clock.now(),
      );
      this.stuck.set(key, { target, entry });
      const pause = Math.round((entry.retryAtMs - this.#host.clock.now()) / 1000);
      this.#events.emit(
        "error",
        `${what} ${label(target)} is stuck: ${result.message} ` +
          `(overrun ${entry.attempts}; tried again once it runs, in ${pause} s at the earliest)`,
        target.pid,
        { action: { kind: what, result: "stuck" } },
      );
    } else {
      this.#events.emit("error", `${what} ${label(target)}: ${result.message}`, target.pid, {
        action: { kind: what, result: "error" },
      });
    }
    if (result.late && (what === "enable" || what === "disable")) {
      void result.late.then((late) => this.#reconcile(target, what, late, entry));
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
