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
import type { ProbeWorkerHandle } from "./probe_worker_handle.ts";
import { type ChaseParams, failedRow, type RowReply } from "./protocol.ts";
import { SharedAbortFlag } from "./abort_flag.ts";
import { ProbeWorkerPool } from "./worker_pool.ts";
import { errorMessage } from "../src/core/error_message.ts";

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
  /** Where sysfs is (`--sys-root`); default /sys. */
  sysRoot?: string;
  /**
   * Called right after a row request went to its (ready) worker: from here
   * until its reply, that worker is busy with the row. For tests that must
   * abort a busy worker, and for progress display.
   */
  onRowSent?: (row: number) => void;
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

export class LinuxProber implements Prober, Disposable {
  readonly #options: LinuxProberOptions;
  /** Workers by row node: only the current measurement's, or kept ones with keepWorkers. */
  readonly #workers: ProbeWorkerPool;
  #busy = false;

  constructor(options: LinuxProberOptions = {}) {
    this.#options = options;
    this.#workers = new ProbeWorkerPool(options.workerUrl);
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
    using abortFlag = new SharedAbortFlag(signal);
    // Kept workers survive only a clean measurement; after an abort or a
    // throw nobody can vouch for their state.
    using closeWorkers = new DisposableStack();
    closeWorkers.defer(() => this.close());
    const replies = await this.#rows(plan, params, signal, abortFlag.buffer);
    if (this.#options.keepWorkers ?? false) closeWorkers.move();
    return replies;
  }

  async #rows(
    plan: ProbePlan,
    params: ChaseParams,
    signal: AbortSignal | undefined,
    abortFlag: SharedArrayBuffer,
  ): Promise<RowReply[]> {
    if (plan.cols.length === 0) {
      return plan.rows.map((r) => failedRow(r.node, [], "no memory nodes"));
    }
    this.#workers.serve(new Set(plan.rows.filter((r) => r.cpu !== null).map((r) => r.node)));
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
    return replies;
  }

  /** Terminate every worker (kept ones included). Safe twice; the prober stays usable. */
  close(): void {
    this.#workers.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #measureRow(
    handle: ProbeWorkerHandle,
    row: number,
    cpu: number,
    cols: number[],
    params: ChaseParams,
    abortFlag: SharedArrayBuffer,
  ): Promise<RowReply> {
    const o = this.#options;
    const timeoutMs = o.rowTimeoutMs ?? 120_000;
    const sysRoot = o.sysRoot ?? "/sys";
    try {
      await handle.ready();
      const reply = handle.measureRow(
        { kind: "row", row, cpu, cols, params, abortFlag, sysRoot },
        timeoutMs,
      );
      o.onRowSent?.(row);
      return await reply;
    } catch (error) {
      // The worker may still hold a mapping; terminating it is the only way out.
      handle.terminate();
      return failedRow(row, cols, errorMessage(error));
    }
  }
}
