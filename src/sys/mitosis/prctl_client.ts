/**
 * waspd's side of the prctl helper (prctl_helper.ts): one helper process,
 * started by the first call that needs it, serving prctl(100) for the daemon
 * and the manual commands alike, and retired after `idleMs` without a call
 * (a second Deno costs tens of MB for as long as it lives; the next call
 * starts a fresh one, its start-up on the start-up clock below).
 *
 * Three clocks, never mixed:
 * - start-up: the helper must say "ready" (and then "begin" for each call)
 *   within `startupTimeoutMs` (90 s by default: a Deno start on a loaded
 *   machine takes seconds, and more than 30 s in an 8-vCPU QEMU guest on two
 *   host cores), or within what the caller has left when it says
 *   (`withinMs`: the undo on exit never waits that long). Missing it is a start-up
 *   failure (ETIMEDOUT), never "stuck", and nothing was called;
 * - the call: the caller's deadline runs from "begin" to "done", so it times
 *   the kernel call only;
 * - afterwards: a call that overran is abandoned, not its helper: the helper
 *   runs each call on its own Worker, so the blocked one takes nothing from
 *   the next. The call is still listened to: when it returns at last, the
 *   stuck result's `late` promise resolves with what the kernel answered, so
 *   the caller can reconcile. Bounded: a helper holding MAX_OVERDUE_CALLS
 *   blocked calls is retired (no more calls; it exits when they return) and a
 *   fresh one takes the next call; with MAX_RETIRED_HELPERS retired and still
 *   blocked, calls are refused (EAGAIN) until one returns. At exit every
 *   helper is killed and none is waited for past a short grace.
 */
import type { ActionResult } from "../../core/types.ts";
import { LineTooLong } from "../stream_lines.ts";
import { errorMessage } from "../../core/error_message.ts";
import { failed as failure, stuckResult } from "../../core/prctl.ts";
import { encodeRequest, type HelperMessage, parseMessage, resultOf } from "./prctl_protocol.ts";
import { type HelperLauncher, type HelperLink, launchHelperProcess } from "./prctl_spawn.ts";

/** How long a helper may take to say "ready", or to begin a call it was sent. */
export const HELPER_STARTUP_TIMEOUT_MS = 90_000;
/** Calls blocked in the kernel one helper may hold (a Worker each) before it is retired. */
export const MAX_OVERDUE_CALLS = 8;
/** Retired helpers (with calls still blocked) at once; past it, calls are refused. */
export const MAX_RETIRED_HELPERS = 2;
/** Quiet time after which an idle helper is retired (it exits; the next call starts one). */
export const HELPER_IDLE_MS = 60_000;

export interface PrctlClientOptions {
  launch?: HelperLauncher;
  startupTimeoutMs?: number;
  /** Quiet time after which an idle helper is retired; HELPER_IDLE_MS by default. */
  idleMs?: number;
}

type Answer = Extract<HelperMessage, { type: "done" | "failed" }>;

type Deferred<T> = PromiseWithResolvers<T>;
const deferred = <T>(): Deferred<T> => Promise.withResolvers<T>();

/** Resolve with `value` after `ms`, or with the promise's value if it comes first. */
async function within<T, U>(promise: Promise<T>, ms: number, value: U): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<U>((resolve) => timer = setTimeout(() => resolve(value), ms));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One helper's state: ready or not, and its calls under way. */
class Helper {
  readonly link: HelperLink;
  readonly ready = deferred<boolean>();
  readonly #calls = new Map<number, { begin: Deferred<boolean>; done: Deferred<Answer | null> }>();
  alive = true;
  /** Calls past their deadline (or not begun in time) that have not returned yet. */
  overdue = 0;

  constructor(link: HelperLink) {
    this.link = link;
    void this.#pump();
  }

  open(id: number): { begin: Promise<boolean>; done: Promise<Answer | null> } {
    const call = { begin: deferred<boolean>(), done: deferred<Answer | null>() };
    this.#calls.set(id, call);
    return { begin: call.begin.promise, done: call.done.promise };
  }

  get busy(): boolean {
    return this.#calls.size > 0;
  }

  async #pump(): Promise<void> {
    try {
      for await (const line of this.link.lines) {
        const message = parseMessage(line);
        if (message === null) continue;
        if (message.type === "ready") {
          this.ready.resolve(true);
          continue;
        }
        const call = this.#calls.get(message.id);
        if (!call) continue;
        call.begin.resolve(true);
        if (message.type === "begin") continue;
        this.#calls.delete(message.id);
        call.done.resolve(message);
      }
    } catch (error) {
      // A broken pipe is an exit like any other; an endless line is a helper
      // off its protocol: killed, and the next call starts a fresh one.
      if (error instanceof LineTooLong) this.link.kill();
    }
    // Gone: whatever was waiting learns it now.
    this.alive = false;
    this.ready.resolve(false);
    for (const call of this.#calls.values()) {
      call.begin.resolve(false);
      call.done.resolve(null);
    }
    this.#calls.clear();
  }
}

export class PrctlClient {
  readonly #launch: HelperLauncher;
  readonly #startupTimeoutMs: number;
  readonly #idleMs: number;
  #current: Helper | null = null;
  /** Helpers left with a call that overran: listened to, never given a call, never awaited. */
  readonly #abandoned = new Set<Helper>();
  /** Idle helpers retired, until they have exited (killed at close should one linger). */
  readonly #retiring = new Set<Helper>();
  /** Calls in setReplication, getting ready included: a helper is never retired under one. */
  #active = 0;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;
  #nextId = 1;
  #closed = false;

  constructor(options: PrctlClientOptions = {}) {
    this.#launch = options.launch ?? launchHelperProcess;
    this.#startupTimeoutMs = options.startupTimeoutMs ?? HELPER_STARTUP_TIMEOUT_MS;
    this.#idleMs = options.idleMs ?? HELPER_IDLE_MS;
  }

  /** Start the helper now so that the next call does not wait for its start-up. */
  warmUp(): void {
    try {
      this.#helper();
      this.#settle();
    } catch {
      // The first call reports why it cannot start.
    }
  }

  /** Helpers retired with calls still blocked in the kernel. */
  get abandoned(): number {
    return this.#abandoned.size;
  }

  /**
   * prctl(100, mask, pid) through the helper. `call` names it in messages;
   * the guards on mask and pid are the caller's (and the helper's) job.
   */
  async setReplication(
    call: string,
    mask: number,
    pid: number,
    deadlineMs: number,
    withinMs?: number,
  ): Promise<ActionResult> {
    this.#active++;
    this.#stopIdleTimer();
    try {
      return await this.#call({ call, mask, pid, deadlineMs, withinMs });
    } finally {
      this.#active--;
      this.#settle();
    }
  }

  /** The call itself, while setReplication counts it as active. */
  async #call(
    { call, mask, pid, deadlineMs, withinMs }: {
      call: string;
      mask: number;
      pid: number;
      deadlineMs: number;
      withinMs: number | undefined;
    },
  ): Promise<ActionResult> {
    if (this.#closed) return failure("EIO", `${call}: waspd is shutting down`);
    if (!this.#current?.alive && this.#abandoned.size >= MAX_RETIRED_HELPERS) {
      return failure(
        "EAGAIN",
        `${call}: ${MAX_RETIRED_HELPERS * MAX_OVERDUE_CALLS} prctl calls are still blocked in ` +
          "the kernel; nothing was called (tried again once they return)",
      );
    }
    let helper: Helper;
    try {
      helper = this.#helper();
    } catch (error) {
      return failure(
        "ECHILD",
        `${call}: the prctl helper could not be started: ${errorMessage(error)}`,
      );
    }
    // Getting ready waits at most the start-up timeout, or what the caller has
    // left (the undo's budget), whichever ends first. The monotonic clock, so
    // a wall clock set back or forward mid-call neither stretches nor cuts it;
    // whole milliseconds, as the messages say them.
    const endMs = withinMs === undefined ? Infinity : performance.now() + withinMs;
    const startupWait = () =>
      Math.max(0, Math.round(Math.min(this.#startupTimeoutMs, endMs - performance.now())));
    const startupWaitMs = startupWait();
    const secs = `${startupWaitMs / 1000} s`;
    const ready = await within(helper.ready.promise, startupWaitMs, "timeout" as const);
    if (ready === "timeout") {
      // Left starting: the next call may find it ready.
      return failure(
        "ETIMEDOUT",
        `${call}: the prctl helper did not start within ${secs} (machine overloaded?); ` +
          "nothing was called",
      );
    }
    if (!ready) return this.#lost(helper, call, "exited before it was ready");

    const id = this.#nextId++;
    const pending = helper.open(id);
    try {
      await helper.link.send(encodeRequest({ id, mask, pid }));
    } catch {
      return this.#lost(helper, call, "could not be sent the call");
    }
    const late = pending.done.then((answer) => answer === null ? null : resultOf(call, answer));
    const beginWaitMs = startupWait();
    const begun = await within(pending.begin, beginWaitMs, "timeout" as const);
    if (begun === "timeout") {
      // It may yet make the call: abandoned, and listened to like a stuck one.
      this.#overdue(helper, pending.done);
      return {
        ...failure(
          "ETIMEDOUT",
          `${call}: the prctl helper did not begin the call within ${
            beginWaitMs / 1000
          } s (machine overloaded?)`,
        ),
        late,
      };
    }
    if (!begun) return this.#lost(helper, call, "exited before the call");
    const answer = await within(pending.done, deadlineMs, "deadline" as const);
    if (answer === "deadline") {
      this.#overdue(helper, pending.done);
      return stuckResult(call, deadlineMs, late);
    }
    if (answer === null) return this.#lost(helper, call, "exited during the call");
    return resultOf(call, answer);
  }

  /**
   * Stop every helper (exit): end their input, kill them, and wait at most
   * `graceMs` for them to go. Returns how many are still there (a helper
   * whose call is stuck in the kernel dies only when that call returns).
   */
  async close(graceMs: number): Promise<number> {
    this.#closed = true;
    this.#stopIdleTimer();
    const all = [
      ...this.#abandoned,
      ...this.#retiring,
      ...(this.#current ? [this.#current] : []),
    ];
    this.#current = null;
    for (const helper of all) {
      helper.link.endInput();
      helper.link.kill();
    }
    const left = new Set(all);
    for (const helper of all) void helper.link.exited.then(() => left.delete(helper));
    await within(Promise.all(all.map((h) => h.link.exited)), graceMs, undefined);
    return left.size;
  }

  #helper(): Helper {
    if (this.#current?.alive) return this.#current;
    this.#current = new Helper(this.#launch());
    return this.#current;
  }

  /** With no call under way, the current helper gets `idleMs` before it is retired. */
  #settle(): void {
    if (this.#closed || this.#active > 0 || this.#current === null) return;
    this.#stopIdleTimer();
    const timer = setTimeout(() => {
      this.#idleTimer = null;
      this.#retireIdle();
    }, this.#idleMs);
    // A quiet helper's timer never keeps waspd (or a manual command) alive.
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  #stopIdleTimer(): void {
    if (this.#idleTimer === null) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  /**
   * End the idle helper's input: with no call under way it exits at once. A
   * helper still holding an overrun call stays (it could not exit before the
   * call returns anyway); its quiet time starts again when that call returns.
   */
  #retireIdle(): void {
    const helper = this.#current;
    if (helper === null || this.#active > 0 || helper.busy) return;
    this.#current = null;
    if (!helper.alive) return;
    this.#retiring.add(helper);
    helper.link.endInput();
    void helper.link.exited.then(() => this.#retiring.delete(helper));
  }

  /** A call of `helper` is given up on: counted until it returns; a full helper is retired. */
  #overdue(helper: Helper, done: Promise<unknown>): void {
    helper.overdue++;
    void done.then(() => {
      helper.overdue--;
      this.#settle();
    });
    if (helper.overdue >= MAX_OVERDUE_CALLS) this.#abandon(helper);
  }

  #abandon(helper: Helper): void {
    if (this.#current === helper) this.#current = null;
    if (!helper.alive) return;
    this.#abandoned.add(helper);
    // No more calls for it: it exits by itself once its stuck call returns.
    helper.link.endInput();
    void helper.link.exited.then(() => this.#abandoned.delete(helper));
  }

  #lost(helper: Helper, call: string, what: string): ActionResult {
    if (this.#current === helper) this.#current = null;
    if (helper.busy) this.#abandon(helper);
    else helper.link.kill();
    const detail = helper.link.stderrTail();
    return failure("ECHILD", `${call}: the prctl helper ${what}${detail ? `: ${detail}` : ""}`);
  }
}
