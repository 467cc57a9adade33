/**
 * LinuxCounterSource: per-thread perf counters for the monitored processes.
 *
 * Why per thread: a counter opened on a thread id counts that thread only,
 * and `inherit` does not combine with reading enabled/running times per
 * counter, so each thread of each target gets its own pair of fds: opened
 * when the thread first appears, read every sample, closed when it is gone.
 * A dead thread's last count is kept (a perf fd still reads its final value
 * after the task exits), so a process's total does not drop when a thread
 * ends.
 *
 * File descriptors are bounded: the soft RLIMIT_NOFILE is raised to the hard
 * limit where allowed, counters may use a share of it, and the largest-RSS
 * targets are served first. A process whose threads do not all fit gets no
 * counters at all: a partial sum would look like a real, smaller number.
 * Each fd is a PerfCounter owner; the FdLedger counts the open ones.
 *
 * Where the CPU's table has a walk-duration event (events.ts) and it passes
 * its own start-up check, each thread gets a third counter for it: 3 fds per
 * thread instead of 2, so the same budget serves a third fewer threads. The
 * policy needs it only for the processes in play, but the processes in play
 * change every tick and a counter opened late has no "before" figure, so it
 * is counted for every target rather than opened and closed around enables.
 */
import type {
  CounterReading,
  CounterStatus,
  CpuIdentity,
  ProcessInfo,
  SignalKind,
} from "../../core/types.ts";
import type { CounterSource } from "../../host.ts";
import { libc, RLIMIT_NOFILE } from "../../ffi/libc.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { scaledCount } from "./attr.ts";
import type { RawCount } from "./attr.ts";
import { candidateEventSets, SOFTWARE_EVENTS } from "./events.ts";
import type { EventSet, EventSpec } from "./events.ts";
import { readPerfEnvironment, summarizeFailures } from "./diagnose.ts";
import type { SetFailure } from "./diagnose.ts";
import { validateEventSet, validateOptionalEvent } from "./validate.ts";
import type { Validation } from "./validate.ts";
import { threadIds } from "../procfs.ts";
import { fdBudget, FdLedger, raiseFdLimit } from "./fd_budget.ts";
import type { ProcessCounters, ThreadCounters } from "./process_counters.ts";
import { readProcess, retireThread, retireWalkCycles } from "./process_counters.ts";
import { PerfCounter } from "./perf_counter.ts";
import { errorMessage } from "../../core/error_message.ts";

export interface CounterSourceOptions {
  /** The CPU the event table is chosen for (Topology.cpu). */
  cpu: CpuIdentity;
  /** Where /proc is; fixture trees in tests. */
  procRoot?: string;
  /**
   * "software" (`--signals software`): count task-clock and page faults
   * instead of PMU events, on a machine without a PMU. Only the user's
   * choice: a missing PMU never switches to it. Default "hardware".
   */
  signals?: SignalKind;
  /** Share of the soft fd limit counters may use (default 0.5). */
  fdShare?: number;
  /**
   * The event sets to try, best first. By default the CPU's table for
   * `signals`; given, it lets a caller count a set of its own choosing
   * (a software set with a walk-duration event runs anywhere).
   */
  eventSets?: readonly EventSet[];
}

/** errnos meaning "that thread is gone": dropped quietly. */
const VANISHED = new Set(["ESRCH", "ENOENT"]);
/** errnos meaning "not allowed for this process": not retried every tick. */
const REFUSED = new Set(["EACCES", "EPERM"]);

export class LinuxCounterSource implements CounterSource, Disposable {
  readonly #procRoot: string;
  #events: EventSet | null = null;
  /** The walk-duration event, when the set has one and it counts here. */
  #walkCycles: EventSpec | null = null;
  #status: CounterStatus;
  readonly #processes = new Map<string, ProcessCounters<PerfCounter>>();
  /** Targets perf refused (EACCES/EPERM): not retried while they live. */
  readonly #refused = new Set<string>();
  /** The budget and the open counters (status().fdBudget / fdUsed). */
  #fds = new FdLedger(0);

  constructor(options: CounterSourceOptions) {
    this.#procRoot = options.procRoot ?? "/proc";
    const signals = options.signals ?? "hardware";
    let root = false;
    let fdLimit: number | null = null;
    try {
      root = libc().geteuid() === 0;
      fdLimit = raiseFdLimit(RLIMIT_NOFILE);
    } catch (err) {
      // No libc (not Linux / x86-64): counters are simply unavailable.
      this.#status = unavailable(signals, `no libc: ${errorMessage(err)}`, null);
      return;
    }
    const env = readPerfEnvironment(this.#procRoot, root, fdLimit);
    const budget = fdBudget(fdLimit, options.fdShare ?? 0.5);
    this.#fds = new FdLedger(budget);
    const candidates = options.eventSets ??
      (signals === "software" ? [SOFTWARE_EVENTS] : candidateEventSets(options.cpu));
    const failures: SetFailure[] = [];
    for (const set of candidates) {
      let result: Validation;
      try {
        result = validateEventSet(set, env);
      } catch (err) {
        // The busy loop's own mmap can fail (ENOMEM): that is no verdict on the events.
        result = { ok: false, code: null, reason: `validation failed: ${errorMessage(err)}` };
      }
      if (result.ok) {
        this.#events = set;
        break;
      }
      failures.push({ source: set.source, code: result.code, reason: result.reason });
    }
    const walkEvent = this.#events?.walkCycles ?? null;
    let walkProblem: string | null = null;
    if (walkEvent !== null) {
      try {
        walkProblem = validateOptionalEvent(walkEvent, env);
      } catch (err) {
        walkProblem = `validation failed: ${errorMessage(err)}`;
      }
      if (walkProblem === null) this.#walkCycles = walkEvent;
    }
    this.#status = this.#events
      ? {
        available: true,
        signals,
        source: this.#events.source,
        // The raw set failed but generic works: say why the better one is not used.
        reason: failures.length > 0 ? summarizeFailures(failures, env) : null,
        paranoid: env.paranoid,
        fdBudget: budget,
        fdUsed: 0,
        walkCycles: this.#walkCycles?.name ?? null,
        walkCyclesReason: walkEvent === null
          ? `${this.#events.source} has no page-walk duration event`
          : walkProblem,
      }
      : {
        ...unavailable(signals, summarizeFailures(failures, env), env.paranoid),
        fdBudget: budget,
      };
  }

  status(): CounterStatus {
    return { ...this.#status, fdBudget: this.#fds.limit, fdUsed: this.#fds.used };
  }

  sample(targets: readonly ProcessInfo[]): Map<string, CounterReading> {
    const readings = new Map<string, CounterReading>();
    const events = this.#events;
    if (!events) return readings;

    const wanted = this.#plan(targets);
    for (const [key, counters] of this.#processes) {
      if (!wanted.has(key)) this.#closeProcess(key, counters);
    }
    const targetKeys = new Set(targets.map((t) => t.id));
    for (const key of this.#refused) {
      if (!targetKeys.has(key)) this.#refused.delete(key);
    }
    for (const [key, { target, tids }] of wanted) {
      const counters = this.#processes.get(key) ?? this.#newProcess(target.pid);
      this.#processes.set(key, counters);
      const problem = this.#syncThreads(counters, tids, events);
      if (problem !== "ok") {
        this.#closeProcess(key, counters);
        if (problem === "refused") this.#refused.add(key);
        continue;
      }
      const reading = readProcess(counters, (counter) => counter.read(), scaledCount);
      if (reading.threads > 0) readings.set(key, reading);
    }
    return readings;
  }

  close(): void {
    for (const [key, counters] of this.#processes) this.#closeProcess(key, counters);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Which targets get counters this tick, largest RSS first, each with its
   * current thread ids, within the fd budget (2 fds per thread).
   */
  #plan(targets: readonly ProcessInfo[]): Map<string, { target: ProcessInfo; tids: number[] }> {
    const wanted = new Map<string, { target: ProcessInfo; tids: number[] }>();
    const perThread = this.#walkCycles === null ? 2 : 3;
    let planned = 0;
    const ordered = [...targets].sort((a, b) => b.rssKb - a.rssKb);
    for (const target of ordered) {
      const key = target.id;
      if (this.#refused.has(key) || wanted.has(key)) continue;
      const tids = threadIds(this.#procRoot, target.pid);
      if (tids === null || tids.length === 0) continue; // gone
      const needed = tids.length * perThread;
      if (planned + needed > this.#fds.limit) continue; // a smaller one may still fit
      planned += needed;
      wanted.set(key, { target, tids });
    }
    return wanted;
  }

  #newProcess(pid: number): ProcessCounters<PerfCounter> {
    const walkCycles = this.#walkCycles === null ? null : 0;
    return {
      pid,
      threads: new Map(),
      retired: { loads: 0, walks: 0, enabledNs: 0, runningNs: 0, walkCycles },
    };
  }

  /**
   * Open counters for new threads, retire the dead ones. "refused": perf said
   * no for this process (not retried); "failed": any other error (retried next tick).
   */
  #syncThreads(
    counters: ProcessCounters<PerfCounter>,
    tids: number[],
    events: EventSet,
  ): "ok" | "refused" | "failed" {
    const live = new Set(tids);
    for (const [tid, thread] of counters.threads) {
      if (live.has(tid)) continue;
      retireThread(counters, safeRead(thread.loads), safeRead(thread.walks), scaledCount);
      if (thread.walkCycles) retireWalkCycles(counters, safeRead(thread.walkCycles), scaledCount);
      closeThread(thread);
      counters.threads.delete(tid);
    }
    for (const tid of tids) {
      if (counters.threads.has(tid)) continue;
      try {
        // All of a thread's counters or none: a lone one is closed as the block is left.
        using opening = new DisposableStack();
        const loads = opening.use(PerfCounter.open(events.loads, tid, this.#fds));
        const walks = opening.use(PerfCounter.open(events.walks, tid, this.#fds));
        const walkCycles = this.#walkCycles === null
          ? null
          : opening.use(PerfCounter.open(this.#walkCycles, tid, this.#fds));
        counters.threads.set(tid, { loads, walks, walkCycles });
        opening.move(); // the thread's entry owns them now
      } catch (err) {
        if (!(err instanceof SyscallError)) throw err;
        if (VANISHED.has(err.code)) continue;
        if (REFUSED.has(err.code)) return "refused";
        if (err.code === "EMFILE" || err.code === "ENFILE") {
          // The budget was too generous for this process's other fds: shrink it.
          this.#fds.shrinkToUsed();
        }
        this.#status = { ...this.#status, reason: `last open failed: ${err.message}` };
        return "failed";
      }
    }
    return "ok";
  }

  #closeProcess(key: string, counters: ProcessCounters<PerfCounter>): void {
    for (const thread of counters.threads.values()) closeThread(thread);
    counters.threads.clear();
    this.#processes.delete(key);
  }
}

function closeThread(thread: ThreadCounters<PerfCounter>): void {
  thread.loads.close();
  thread.walks.close();
  thread.walkCycles?.close();
}

/** A dead thread's last read; null when even that fails. */
function safeRead(counter: PerfCounter): RawCount | null {
  try {
    return counter.read();
  } catch {
    return null;
  }
}

function unavailable(
  signals: SignalKind,
  reason: string,
  paranoid: number | null,
): CounterStatus {
  return { available: false, signals, source: null, reason, paranoid, fdBudget: 0, fdUsed: 0 };
}
