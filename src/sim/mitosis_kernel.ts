/**
 * A model of the Mitosis+WASP 6.4.0 kernel interface, faithful to
 * docs/kernel-interface.md and tests/fixtures/mitosis-6.4/prctl-transcript.txt: the
 * same return values and errnos for prctl 100-105, the same semantics for the
 * /proc/mitosis writes, and the same text for the files (rendered so that the
 * real parsers read them). A synchronous state machine; only a prctl(100) on
 * a stopped target is "blocked" (it completes when the target runs again,
 * exactly when the real kernel's queued work would).
 *
 * Where the kernel's behaviour was not observed, the choice is marked ASSUMED.
 */
import { Errno } from "../ffi/errno.ts";
import { STEERING_SLOTS } from "../core/types.ts";
import {
  PR_GET_PGTABLE_CACHE_ONLY,
  PR_GET_PGTABLE_REPL,
  PR_GET_PGTABLE_REPL_STEERING,
  PR_SET_PGTABLE_CACHE_ONLY,
  PR_SET_PGTABLE_REPL,
  PR_SET_PGTABLE_REPL_STEERING,
} from "../core/prctl.ts";
import { isStopped } from "../core/process_state.ts";
import { renderActive, renderCache, renderHistory, renderStatus } from "./mitosis_render.ts";
import {
  allocateFromCache,
  applyCacheWrite,
  type CacheStats,
  emptyCacheStats,
} from "./mitosis_cache.ts";

export type { CacheStats };

/** What a prctl returned: `rc` >= 0, or -1 with an errno; or blocked (stopped target). */
export type PrctlOutcome = { rc: number; errno: number } | { blocked: true; ticket: number };

export interface SimProcess {
  pid: number;
  tgid: number;
  name: string;
  /** argv: rendered as the kernel does, each argument followed by a space. */
  argv: string[];
  /** One-letter state; T/t = stopped. */
  state: string;
  /** Replication node mask, 0 = off. */
  mask: number;
  steering: number[];
  cacheOnly: boolean;
  /** Model time when replication was turned on. */
  enabledAtMs: number | null;
}

export interface SimMitosisOptions {
  /** Online node ids (ascending). */
  nodes: number[];
  /** The pid prctl's arg3 = 0 means (the caller). */
  callerPid: number;
  /** Model clock, ms (for `Duration:` in `active`). */
  now?: () => number;
  /** Page-table pages one replica of a process takes from each node (cache hit or miss). */
  pagesPerReplica?: number;
}

const ok = (rc = 0) => ({ rc, errno: 0 });
const fail = (errno: number) => ({ rc: -1, errno });

/** A strict decimal integer as the kernel's kstrtoint takes it (surrounding whitespace allowed). */
function parseKernelInt(text: string): number | null {
  const trimmed = text.trim();
  return /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : null;
}

export class SimMitosisKernel {
  readonly nodes: number[];
  readonly callerPid: number;
  mode = -1;
  inherit = 1;
  readonly cache = new Map<number, CacheStats>();
  readonly processes = new Map<number, SimProcess>();
  /** CR3 statistics shown by `status` (the model counts one CR3 write per enable). */
  cr3 = { writes: 0, replicaUses: 0, primaryUses: 0 };
  readonly #now: () => number;
  readonly #pagesPerReplica: number;
  readonly #blocked = new Map<
    number,
    { pid: number; mask: number; done: (o: { rc: number; errno: number }) => void }
  >();
  #nextTicket = 1;

  constructor(options: SimMitosisOptions) {
    this.nodes = [...options.nodes].sort((a, b) => a - b);
    this.callerPid = options.callerPid;
    this.#now = options.now ?? (() => performance.now());
    this.#pagesPerReplica = options.pagesPerReplica ?? 0;
    for (const node of this.nodes) {
      this.cache.set(node, emptyCacheStats());
    }
    this.addProcess({ pid: options.callerPid, name: "waspd" });
  }

  // ------------------------------------------------------------ processes

  addProcess(
    p: { pid: number; name: string; argv?: string[]; state?: string; tgid?: number },
  ): void {
    this.processes.set(p.pid, {
      pid: p.pid,
      tgid: p.tgid ?? p.pid,
      name: p.name,
      argv: p.argv ?? [p.name],
      state: p.state ?? "S",
      mask: 0,
      steering: new Array(STEERING_SLOTS).fill(-1),
      cacheOnly: false,
      enabledAtMs: null,
    });
  }

  /**
   * fork(): the child gets its parent's replication when `inherit` is 1.
   * ASSUMED from the name and the Mitosis reference daemon's use of it (it writes 0 so
   * that children do not inherit behind its policy's back); not observed.
   */
  forkProcess(parentPid: number, child: { pid: number; name?: string }): void {
    const parent = this.processes.get(parentPid);
    if (!parent) return;
    this.addProcess({ pid: child.pid, name: child.name ?? parent.name, argv: parent.argv });
    const p = this.processes.get(child.pid);
    if (!p || parent.mask === 0 || this.inherit !== 1) return;
    p.mask = parent.mask;
    p.enabledAtMs = this.#now();
  }

  /** The process exits: its replicas go with it; a blocked call on it fails ESRCH. */
  removeProcess(pid: number): void {
    this.processes.delete(pid);
    for (const [ticket, call] of this.#blocked) {
      if (call.pid !== pid) continue;
      this.#blocked.delete(ticket);
      call.done(fail(Errno.ESRCH));
    }
  }

  /** SIGSTOP / SIGCONT: a stopped target keeps prctl(100) blocked; running again completes it. */
  setProcessState(pid: number, state: string): void {
    const p = this.processes.get(pid);
    if (!p) return;
    p.state = state;
    if (isStopped(state)) return;
    for (const [ticket, call] of this.#blocked) {
      if (call.pid !== pid) continue;
      this.#blocked.delete(ticket);
      call.done(this.#applyReplication(p, call.mask));
    }
  }

  /** Resolves when a blocked prctl(100) finally completes (maybe never). */
  whenUnblocked(ticket: number): Promise<{ rc: number; errno: number }> {
    return new Promise((resolve) => {
      const call = this.#blocked.get(ticket);
      if (!call) return resolve(fail(Errno.ESRCH));
      const previous = call.done;
      call.done = (outcome) => {
        previous(outcome);
        resolve(outcome);
      };
    });
  }

  // ------------------------------------------------------------ prctl

  /** prctl(option, arg2, arg3) for options whose arg2 is a number. */
  prctl(option: number, arg2: number, arg3: number): PrctlOutcome {
    const pid = arg3 === 0 ? this.callerPid : arg3;
    switch (option) {
      case PR_SET_PGTABLE_REPL: {
        const p = this.processes.get(pid);
        if (!p) return fail(Errno.ESRCH);
        const checked = this.#resolveMask(arg2);
        if (checked === null) return fail(Errno.EINVAL);
        // The kernel queues the change on the target and waits for it to run.
        if (pid !== this.callerPid && isStopped(p.state)) {
          const ticket = this.#nextTicket++;
          this.#blocked.set(ticket, { pid, mask: checked, done: () => {} });
          return { blocked: true, ticket };
        }
        return this.#applyReplication(p, checked);
      }
      case PR_GET_PGTABLE_REPL: // caller only, whatever arg3 says
        return ok(this.processes.get(this.callerPid)?.mask ?? 0);
      case PR_SET_PGTABLE_CACHE_ONLY: {
        const p = this.processes.get(pid);
        if (!p) return fail(Errno.ESRCH);
        if (p.mask !== 0) return fail(Errno.EBUSY);
        p.cacheOnly = arg2 !== 0;
        return ok();
      }
      case PR_GET_PGTABLE_CACHE_ONLY: {
        const p = this.processes.get(arg2 === 0 ? this.callerPid : arg2);
        return p ? ok(p.cacheOnly ? 1 : 0) : fail(Errno.ESRCH);
      }
      default:
        return fail(Errno.EINVAL);
    }
  }

  /** prctl(104/105, int32[8], pid). */
  prctlSteering(option: number, buffer: Int32Array, arg3: number): { rc: number; errno: number } {
    const p = this.processes.get(arg3 === 0 ? this.callerPid : arg3);
    if (!p) return fail(Errno.ESRCH);
    if (buffer.length < STEERING_SLOTS) return fail(Errno.EFAULT);
    // [seen] EINVAL when replication is off. ASSUMED: the same for 105.
    if (p.mask === 0) return fail(Errno.EINVAL);
    if (option === PR_GET_PGTABLE_REPL_STEERING) {
      buffer.set(p.steering.slice(0, STEERING_SLOTS));
      return ok();
    }
    if (option !== PR_SET_PGTABLE_REPL_STEERING) return fail(Errno.EINVAL);
    const entries = [...buffer.slice(0, STEERING_SLOTS)];
    const valid = entries.every((n) =>
      n === -1 || (n >= 0 && n < STEERING_SLOTS && (p.mask & (1 << n)) !== 0)
    );
    if (!valid) return fail(Errno.EINVAL);
    p.steering = entries;
    return ok();
  }

  /**
   * 0 = off, 1 = all online nodes, else a mask of >= 2 online nodes; null =
   * EINVAL. As the 6.4 handler reads it (kernel/sys.c, PR_SET_PGTABLE_REPL):
   * enabling needs more than one online node; only bits below NUMA_NODE_COUNT
   * are read (a higher bit is ignored, not refused); a named node that is
   * offline, or fewer than 2 named, is EINVAL.
   */
  #resolveMask(mask: number): number | null {
    if (!Number.isSafeInteger(mask) || mask < 0) return null;
    if (mask === 0) return 0;
    if (this.nodes.length <= 1) return null;
    const online = this.nodes.reduce((m, n) => m | (1 << n), 0);
    if (mask === 1) return online;
    let named = 0;
    for (let node = 0; node < STEERING_SLOTS; node++) {
      if (Math.floor(mask / 2 ** node) % 2 === 0) continue;
      if (!this.nodes.includes(node)) return null;
      named |= 1 << node;
    }
    return popcount(named) < 2 ? null : named;
  }

  #applyReplication(p: SimProcess, mask: number): { rc: number; errno: number } {
    if (mask === 0) {
      p.mask = 0;
      p.enabledAtMs = null;
      p.steering = new Array(STEERING_SLOTS).fill(-1);
      return ok();
    }
    if (p.mask !== 0) return p.mask === mask ? ok() : fail(Errno.EALREADY);
    p.mask = mask;
    p.enabledAtMs = this.#now();
    p.steering = new Array(STEERING_SLOTS).fill(-1);
    this.cr3.writes++;
    this.cr3.replicaUses++;
    for (const node of maskToNodes(mask)) {
      const stats = this.cache.get(node);
      if (stats) allocateFromCache(stats, this.#pagesPerReplica);
    }
    return ok();
  }

  // ------------------------------------------------------------ /proc/mitosis writes

  /** write(2) then close(2) of `text` to /proc/mitosis/NAME: 0 or an errno (reported at close). */
  writeFile(name: string, text: string): { rc: number; errno: number } {
    const value = parseKernelInt(text);
    switch (name) {
      case "mode":
        if (value === null || value < -1 || value > 1) return fail(Errno.EINVAL);
        this.mode = value;
        return ok();
      case "inherit":
        // [seen] 0 reads back -1, 1 reads back 1. ASSUMED: any positive is 1.
        if (value === null) return fail(Errno.EINVAL);
        this.inherit = value > 0 ? 1 : -1;
        return ok();
      case "cache":
        return applyCacheWrite(this.cache.values(), value) ? ok() : fail(Errno.EINVAL);
      case "history":
        return value === -1 ? ok() : fail(Errno.EINVAL);
      default:
        return fail(Errno.EACCES);
    }
  }

  // ------------------------------------------------------------ rendering

  /** The processes with replication on, in pid order. */
  replicated(): SimProcess[] {
    return [...this.processes.values()].filter((p) => p.mask !== 0).sort((a, b) => a.pid - b.pid);
  }

  /** The /proc/mitosis files as the 6.4.0 kernel prints them. */
  renderFiles(): Record<string, string> {
    const now = this.#now();
    return {
      status: renderStatus(this),
      active: renderActive(this.replicated(), this.nodes, now),
      cache: renderCache(this.nodes.map((node) => ({ node, ...this.cache.get(node)! }))),
      mode: `${this.mode}\n`,
      inherit: `${this.inherit}\n`,
      history: renderHistory(),
    };
  }
}

export function maskToNodes(mask: number): number[] {
  const nodes: number[] = [];
  for (let bit = 0; bit < 31; bit++) if (mask & (1 << bit)) nodes.push(bit);
  return nodes;
}

function popcount(mask: number): number {
  return maskToNodes(mask).length;
}
