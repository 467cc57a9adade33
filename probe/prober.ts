/**
 * `LinuxProber`: the real PTL latency matrix. One pinned worker per row node
 * (a node with CPUs), each chasing a buffer bound to every column node (a node
 * with memory). Workers are started together (their start-up is mostly module
 * loading) but measure ONE ROW AT A TIME: rows chasing in parallel would share
 * the memory controllers and interconnect, and each row's figure would then
 * include the others' traffic rather than the idle latency the steering needs.
 */
import type { Clock, ProbeOptions, Prober } from "../src/host.ts";
import { realClock } from "../src/host.ts";
import type { PtlMeasurement, Topology } from "../src/core/types.ts";
import { libc } from "../src/ffi/libc.ts";
import { DEFAULT_GROUP_BYTES, DEFAULT_STRIDE_BYTES } from "./chase.ts";
import { planProbe, type ProbePlan } from "./plan.ts";
import { ProbeWorkerHandle, WORKER_URL } from "./probe_worker_handle.ts";
import { type ChaseParams, failedRow, type RowReply } from "./protocol.ts";

export interface LinuxProberOptions {
  clock?: Clock;
  seed?: number;
  rounds?: number;
  loadsPerRound?: number;
  warmupLoads?: number;
  groupBytes?: number;
  strideBytes?: number;
  /** Longest wait for one row before it is reported as failed. */
  rowTimeoutMs?: number;
  /**
   * Keep the workers (and their cached chase order) between measurements, as
   * the daemon should: saves the worker start and the order build each time.
   * The owner must then call close(). Off by default: one-shot callers leak
   * nothing.
   */
  keepWorkers?: boolean;
  workerUrl?: URL;
}

/** The measurement plus what only tests and the benchmark look at. */
export interface DetailedMeasurement {
  measurement: PtlMeasurement;
  plan: ProbePlan;
  /** One reply per row, in row order (a synthesized failure for rows without a worker). */
  replies: RowReply[];
  params: ChaseParams;
}

export const DEFAULT_ROUNDS = 7;
export const DEFAULT_LOADS_PER_ROUND = 20_000;

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("probe aborted", "AbortError");
}

/** The CPUs this process may run on, or null when unknown (then every node CPU is tried). */
export function allowedCpus(): Set<number> | null {
  try {
    return new Set(libc().getAffinity(0));
  } catch {
    return null;
  }
}

export class LinuxProber implements Prober {
  readonly #options: LinuxProberOptions;
  /** Workers by row node: only the current measurement's, or kept ones with keepWorkers. */
  readonly #workers = new Map<number, ProbeWorkerHandle>();
  #busy = false;

  constructor(options: LinuxProberOptions = {}) {
    this.#options = options;
  }

  async measure(topology: Topology, options: ProbeOptions = {}): Promise<PtlMeasurement> {
    return (await this.measureDetailed(topology, options)).measurement;
  }

  async measureDetailed(
    topology: Topology,
    options: ProbeOptions = {},
  ): Promise<DetailedMeasurement> {
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal);
    // Two measurements at once would share workers and memory bandwidth.
    if (this.#busy) throw new Error("a PTL measurement is already running");
    this.#busy = true;
    try {
      return await this.#measureNow(topology, options, signal);
    } finally {
      this.#busy = false;
    }
  }

  async #measureNow(
    topology: Topology,
    options: ProbeOptions,
    signal: AbortSignal | undefined,
  ): Promise<DetailedMeasurement> {
    const o = this.#options;
    const clock = o.clock ?? realClock;
    const startedAtMs = clock.wallNow();
    const t0 = clock.now();
    const groupBytes = o.groupBytes ?? DEFAULT_GROUP_BYTES;
    const plan = planProbe(topology, allowedCpus(), options.bufferBytes ?? null, groupBytes);
    const params: ChaseParams = {
      bufferBytes: plan.bufferBytes,
      groupBytes,
      strideBytes: o.strideBytes ?? DEFAULT_STRIDE_BYTES,
      seed: o.seed ?? 1,
      rounds: options.rounds ?? o.rounds ?? DEFAULT_ROUNDS,
      loadsPerRound: o.loadsPerRound ?? DEFAULT_LOADS_PER_ROUND,
      warmupLoads: o.warmupLoads ?? o.loadsPerRound ?? DEFAULT_LOADS_PER_ROUND,
    };
    const replies = await this.#runRows(plan, params, signal);
    const measurement: PtlMeasurement = {
      startedAtMs,
      durationMs: clock.now() - t0,
      rows: plan.rows.map((r) => r.node),
      cols: plan.cols,
      latencyNs: replies.map((r) => r.cells.map((c) => c.latencyNs)),
      spread: replies.map((r) => r.cells.map((c) => c.spread)),
      errors: replies.map((r) => r.cells.map((c) => c.error)),
      bufferBytes: plan.bufferBytes,
    };
    return { measurement, plan, replies, params };
  }

  async #runRows(plan: ProbePlan, params: ChaseParams, signal?: AbortSignal): Promise<RowReply[]> {
    const o = this.#options;
    const abortFlag = new SharedArrayBuffer(4);
    const flag = new Int32Array(abortFlag);
    const onAbort = () => Atomics.store(flag, 0, 1);
    signal?.addEventListener("abort", onAbort, { once: true });
    let completed = false;
    try {
      if (plan.cols.length === 0) {
        completed = true;
        return plan.rows.map((r) => failedRow(r.node, [], "no memory nodes"));
      }
      // Workers of nodes that are no longer rows (CPUs offlined) go.
      const rowNodes = new Set(plan.rows.filter((r) => r.cpu !== null).map((r) => r.node));
      for (const [node, handle] of this.#workers) {
        if (!rowNodes.has(node)) {
          handle.terminate();
          this.#workers.delete(node);
        }
      }
      // Start every missing worker first: their start-up overlaps.
      for (const row of plan.rows) {
        const kept = this.#workers.get(row.node);
        if (row.cpu !== null && (kept === undefined || !kept.healthy)) {
          kept?.terminate();
          this.#workers.set(row.node, new ProbeWorkerHandle(o.workerUrl ?? WORKER_URL));
        }
      }
      const replies: RowReply[] = [];
      for (const row of plan.rows) {
        if (signal?.aborted) throw abortError(signal);
        const handle = this.#workers.get(row.node);
        if (handle === undefined || row.cpu === null) {
          replies.push(failedRow(row.node, plan.cols, `no usable CPU on node ${row.node}`));
          continue;
        }
        replies.push(
          await this.#measureRow(handle, row.node, row.cpu, plan.cols, params, abortFlag),
        );
      }
      if (signal?.aborted) throw abortError(signal);
      completed = true;
      return replies;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      // Kept workers survive only a clean measurement; after an abort or a
      // throw nobody can vouch for their state.
      if (!(o.keepWorkers ?? false) || !completed) this.close();
    }
  }

  /** Terminate every worker (kept ones included). The prober stays usable. */
  close(): void {
    for (const handle of this.#workers.values()) handle.terminate();
    this.#workers.clear();
  }

  async #measureRow(
    handle: ProbeWorkerHandle,
    row: number,
    cpu: number,
    cols: number[],
    params: ChaseParams,
    abortFlag: SharedArrayBuffer,
  ): Promise<RowReply> {
    const timeoutMs = this.#options.rowTimeoutMs ?? 120_000;
    try {
      await handle.ready();
      return await handle.measureRow({ kind: "row", row, cpu, cols, params, abortFlag }, timeoutMs);
    } catch (error) {
      // The worker may still hold a mapping; terminating it is the only way out.
      handle.terminate();
      return failedRow(row, cols, error instanceof Error ? error.message : String(error));
    }
  }
}
