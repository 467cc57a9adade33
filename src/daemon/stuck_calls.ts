/**
 * The prctl(100) calls that overran their deadline, kept until they are over.
 * Stuck is a state a process recovers from: it is tried again with a growing
 * pause once it runs (core/stuck.ts), and when the abandoned call returns at
 * last, the kernel's list of replicated processes (/proc/mitosis/active) says
 * what it did (core/reconcile.ts). That late answer can change what waspd
 * owns, so this tells the Ownership of it; the Actuator tells this each
 * answer and asks whom it holds.
 */
import type { EventLog } from "../core/events.ts";
import { reconcileLate } from "../core/reconcile.ts";
import { markStuck, retryVerdict, type StuckEntry } from "../core/stuck.ts";
import type { ActionKind } from "../core/snapshot.ts";
import { type ActionResult, type ProcessKey, processKeyString } from "../core/types.ts";
import type { Host } from "../host.ts";
import { label, type ManagedProcess } from "./managed.ts";
import type { Ownership } from "./ownership.ts";

export interface StuckCall {
  target: ManagedProcess;
  entry: StuckEntry;
}

export class StuckCalls {
  readonly #host: Host;
  readonly #events: EventLog;
  /** What waspd owns: a late answer can change it. */
  readonly #ownership: Ownership;
  readonly #calls = new Map<string, StuckCall>();

  constructor(deps: { host: Host; events: EventLog; ownership: Ownership }) {
    ({ host: this.#host, events: this.#events, ownership: this.#ownership } = deps);
  }

  /** Processes whose prctl 100 overran its deadline, and when to try them again. */
  get all(): ReadonlyMap<string, StuckCall> {
    return this.#calls;
  }

  /**
   * Is the process held by a stuck call? Not once it runs (`state` as
   * sampled; left out, only the pause counts) and its pause is over: then the
   * policy decides for it again, and a call may be started.
   */
  holds(key: ProcessKey, state = "R"): boolean {
    const stuck = this.#calls.get(processKeyString(key));
    return stuck !== undefined && !retryVerdict(stuck.entry, this.#host.clock.now(), state).due;
  }

  forget(key: ProcessKey): void {
    this.#calls.delete(processKeyString(key));
  }

  /**
   * The stuck side of a call's answer. For prctl 100 (`replication`) any
   * answer clears the mark; an overrun marks the process stuck; a call given
   * up on is reconciled when it returns. Other errors are the Actuator's to log.
   */
  note(target: ManagedProcess, what: ActionKind, result: ActionResult, replication: boolean): void {
    const key = processKeyString(target);
    if (replication && (result.ok || !result.stuck) && this.#calls.delete(key)) {
      this.#events.emit(
        "info",
        `${label(target)} is no longer stuck: ${what} answered`,
        target.pid,
      );
    }
    if (result.ok) return;
    let entry: StuckEntry | null = null;
    if (result.stuck) entry = this.#mark(target, what, result.message);
    if (result.late && (what === "enable" || what === "disable")) {
      void result.late.then((late) => this.#reconcile(target, what, late, entry));
    }
  }

  /**
   * At exit: a stuck enable may have completed without its answer reaching
   * us yet. Those the kernel lists are waspd's now (the Ownership is told,
   * so they are undone); returns them.
   */
  async completedEnables(): Promise<ManagedProcess[]> {
    const replicated = await this.#replicatedPids();
    const completed: ManagedProcess[] = [];
    for (const [key, { target, entry }] of [...this.#calls]) {
      if (entry.what !== "enable" || !replicated?.has(target.pid)) continue;
      this.#calls.delete(key);
      this.#ownership.settle(target, true, { ok: true });
      completed.push(target);
    }
    return completed;
  }

  #mark(target: ManagedProcess, what: ActionKind, message: string): StuckEntry {
    const key = processKeyString(target);
    const entry = markStuck(
      this.#calls.get(key)?.entry,
      what === "disable" ? "disable" : "enable",
      this.#host.clock.now(),
    );
    this.#calls.set(key, { target, entry });
    const pause = Math.round((entry.retryAtMs - this.#host.clock.now()) / 1000);
    this.#events.emit(
      "error",
      `${what} ${label(target)} is stuck: ${message} ` +
        `(overrun ${entry.attempts}; tried again once it runs, in ${pause} s at the earliest)`,
      target.pid,
      { action: { kind: what, result: "stuck" } },
    );
    return entry;
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
    const mine = entry !== null && this.#calls.get(key)?.entry === entry;
    if (entry) entry.pending = false;
    if ((await this.#host.confirm(target)) === null) {
      if (mine) this.#calls.delete(key);
      this.#ownership.forget(target);
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
    if (mine) this.#calls.delete(key);
    // The Ownership kept the intent of the stuck call: now it learns the outcome.
    const on = what === "enable";
    if (verdict.owned !== null) {
      this.#ownership.settle(
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
}
