/**
 * Carries out the policy's decisions against the kernel, safely:
 * - the pid + start time is re-confirmed right before every call (pid reuse);
 * - a process in state T/t is never called (prctl 100 would block forever);
 * - prctl 100 goes through `MitosisControl.setReplication` with a deadline; an
 *   overrun marks the process `stuck`, a state it recovers from (kept by
 *   stuck_calls.ts: tried again once it runs, the late answer reconciled);
 * - one call per process at a time; calls are started, not awaited, by the
 *   tick, so ticks, keys and redraws go on while the kernel is slow.
 * - replication goes on with the machine's mask (core/replication_mask.ts:
 *   the nodes with CPUs), read at each call, and is refused, without a
 *   kernel call, where fewer than 2 nodes have CPUs.
 * What it turned on is the Ownership's to know (ownership.ts): it tells it
 * around every call, and the undo (undo.ts) turns off exactly what it names.
 */
import { errorMessage } from "../core/error_message.ts";
import type { EventLog } from "../core/events.ts";
import type { ActionKind } from "../core/snapshot.ts";
import { type ActionResult, type ProcessKey, processKeyString } from "../core/types.ts";
import type { Host } from "../host.ts";
import { isStopped } from "../core/process_state.ts";
import type { ReplicationMask } from "../core/replication_mask.ts";
import { label, type ManagedProcess, REPLICATE_OFF, setReplicationOwned } from "./managed.ts";
import type { Ownership } from "./ownership.ts";
import { type StuckCall, StuckCalls } from "./stuck_calls.ts";
import { UNDO_BUDGET_MS, undoAll } from "./undo.ts";

export class Actuator {
  readonly #host: Host;
  readonly #events: EventLog;
  readonly #deadlineMs: number;
  readonly #stuck: StuckCalls;
  readonly #inflight = new Map<string, Promise<void>>();
  /** Told before and after each prctl(100); asked what waspd turned on. */
  readonly #ownership: Ownership;
  /** The mask replication goes on with, for the machine as it is now. */
  readonly #replication: () => ReplicationMask;
  /** The refusal last reported: said once, not at every retry the policy makes. */
  #refusalSaid: string | null = null;

  constructor(
    host: Host,
    events: EventLog,
    deadlineMs: number,
    ownership: Ownership,
    replication: () => ReplicationMask,
  ) {
    this.#host = host;
    this.#events = events;
    this.#deadlineMs = deadlineMs;
    this.#ownership = ownership;
    this.#replication = replication;
    this.#stuck = new StuckCalls({ host, events, ownership });
  }

  /** Processes whose prctl 100 overran its deadline, and when to try them again. */
  get stuck(): ReadonlyMap<string, StuckCall> {
    return this.#stuck.all;
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
    for (const target of this.#ownership.owned()) {
      this.#run(target, () => this.#steer(target, steering, reason));
    }
  }

  /** A process has exited: the kernel freed its replicas with its memory. */
  forget(key: ProcessKey): void {
    this.#stuck.forget(key);
    this.#ownership.forget(key);
  }

  /** Is the process held by a stuck call this tick? (`state` as sampled.) */
  holds(key: ProcessKey, state: string): boolean {
    return this.#stuck.holds(key, state);
  }

  /** Turn off everything waspd turned on, within `budgetMs`; one line per process. */
  undoAll(budgetMs: number = UNDO_BUDGET_MS): Promise<string[]> {
    return undoAll({
      host: this.#host,
      deadlineMs: this.#deadlineMs,
      stuck: this.#stuck,
      ownership: this.#ownership,
      settle: () => this.settle(),
      busy: (key) => this.#inflight.has(key),
    }, budgetMs);
  }

  /** Wait for calls under way (each is bounded by the deadline). */
  async settle(): Promise<void> {
    await Promise.all([...this.#inflight.values()]);
  }

  #run(target: ManagedProcess, work: () => Promise<void>): void {
    const key = processKeyString(target);
    if (this.#inflight.has(key)) return;
    // A stuck process waits out its pause; #confirm then skips it while it is stopped.
    if (this.#stuck.holds(target)) return;
    const done = work().catch((error) => {
      this.#events.emit("error", `${label(target)}: ${errorMessage(error)}`, target.pid);
    }).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, done);
  }

  /** Confirm identity and runnability; emits why not and returns false. */
  async #confirm(target: ManagedProcess, what: ActionKind): Promise<boolean> {
    const now = await this.#host.confirm(target);
    if (now === null) {
      this.#ownership.forget(target);
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
    const mask = this.#replication();
    if (!mask.ok) {
      if (mask.reason !== this.#refusalSaid) {
        this.#events.emit("info", `enable ${label(target)} skipped: ${mask.reason}`, target.pid, {
          action: { kind: "enable", result: "skipped" },
          severity: "warning",
        });
      }
      this.#refusalSaid = mask.reason;
      return;
    }
    this.#refusalSaid = null;
    if (!(await this.#confirm(target, "enable"))) return;
    const result = await this.#replicate(target, mask.mask, reason);
    if (!this.#record(target, "enable", result, true)) return;
    const hex = `0x${mask.mask.toString(16)}`;
    this.#events.emit(
      "enable",
      `replication on for ${label(target)}, mask ${hex}: ${reason}`,
      target.pid,
      {
        action: { kind: "enable", result: "ok" },
      },
    );
    if (steering !== null) await this.#steer(target, steering, "newly replicated");
  }

  async #disable(target: ManagedProcess, reason: string) {
    if (!(await this.#confirm(target, "disable"))) return;
    const result = await this.#replicate(target, REPLICATE_OFF, reason);
    if (!this.#record(target, "disable", result, true)) return;
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

  #replicate(target: ManagedProcess, mask: number, reason: string): Promise<ActionResult> {
    return setReplicationOwned(
      this.#host,
      this.#ownership,
      target,
      mask,
      reason,
      this.#deadlineMs,
    );
  }

  /**
   * Returns whether the call succeeded. The stuck-call bookkeeping sees every
   * answer (`replication`: a prctl 100); an error that is not an overrun is
   * logged here.
   */
  #record(
    target: ManagedProcess,
    what: ActionKind,
    result: ActionResult,
    replication = false,
  ): boolean {
    this.#stuck.note(target, what, result, replication);
    if (result.ok) return true;
    if (!result.stuck) {
      this.#events.emit("error", `${what} ${label(target)}: ${result.message}`, target.pid, {
        action: { kind: what, result: "error" },
      });
    }
    return false;
  }
}
