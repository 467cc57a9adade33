/**
 * `LightProber`: the daemon's budgeted refresh of chosen PTL cells. It keeps,
 * between refreshes, one ring per memory node (probe/ring.ts) and one pinned
 * worker per CPU node, so a refresh is a message and a few thousand loads
 * per cell. The full chase (probe/prober.ts) stays what `waspd probe` and
 * the forced `r` re-measure use.
 *
 * The method is chosen once: `flush` where this process may execute a page
 * of its own (the clflush loop), else `ring`, whose figures are memory
 * latency only when the ring is well past the LLC. Which one and whether the
 * figures are honest DRAM latency ride with every result.
 */
import type { PtlRefresher, RefreshOptions, RefreshResult } from "../src/host.ts";
import type { CellFigure, PtlCell, PtlMethod, Topology } from "../src/core/types.ts";
import { libc } from "../src/ffi/libc.ts";
import { DEFAULT_GROUP_BYTES, DEFAULT_STRIDE_BYTES } from "./chase.ts";
import { openFlusher } from "./flush.ts";
import type { FlushStatus, LightCell, LightReply } from "./light.ts";
import { pickCpu } from "./plan.ts";
import { allowedCpus } from "./prober.ts";
import { ProbeWorkerHandle, WORKER_URL } from "./probe_worker_handle.ts";
import { nextGroups, Ring } from "./ring.ts";
import { describeMethod, ringBytesFor } from "./light_plan.ts";

export interface LightProberOptions {
  seed?: number;
  groupBytes?: number;
  strideBytes?: number;
  /** TLB groups chased per cell per refresh. */
  groupsPerCell?: number;
  /** Timed rounds per group. */
  roundsPerGroup?: number;
  /** Force the method (the benchmark compares them); default: flush where possible. */
  method?: "flush" | "ring";
  workerUrl?: URL;
  timeoutMs?: number;
}

export const DEFAULT_GROUPS_PER_CELL = 2;
export const DEFAULT_ROUNDS_PER_GROUP = 4;

export class LightProber implements PtlRefresher {
  readonly #o: LightProberOptions;
  readonly #rings = new Map<number, Ring>();
  readonly #ringErrors = new Map<number, string>();
  readonly #workers = new Map<number, ProbeWorkerHandle>();
  #method: { kind: "flush" | "ring"; reason: string | null } | null = null;
  #flush: FlushStatus | null = null;
  #allowed: Set<number> | null | undefined = undefined;
  #busy = false;

  constructor(options: LightProberOptions = {}) {
    this.#o = options;
  }

  /** Flush where this process may execute its own page, else the plain ring. Decided once. */
  #chooseMethod(): { kind: "flush" | "ring"; reason: string | null } {
    if (this.#method !== null) return this.#method;
    if (this.#o.method === "ring") return (this.#method = { kind: "ring", reason: "asked for" });
    const support = openFlusher(libc());
    if (support.ok) support.flusher[Symbol.dispose]();
    this.#method = support.ok
      ? { kind: "flush", reason: null }
      : { kind: "ring", reason: support.reason };
    return this.#method;
  }

  async refresh(
    topology: Topology,
    cells: readonly PtlCell[],
    options: RefreshOptions,
  ): Promise<RefreshResult> {
    if (this.#busy) throw new Error("a PTL refresh is already running");
    this.#busy = true;
    try {
      return await this.#refresh(topology, cells, options);
    } finally {
      this.#busy = false;
    }
  }

  async #refresh(
    topology: Topology,
    cells: readonly PtlCell[],
    options: RefreshOptions,
  ): Promise<RefreshResult> {
    let mainMs = 0;
    let mark = performance.now();
    const pause = () => (mainMs += performance.now() - mark);
    const resume = () => (mark = performance.now());
    const method = this.#chooseMethod();
    const flushing = method.kind === "flush";
    const layoutOf = (bufferBytes: number) => ({
      bufferBytes,
      groupBytes: this.#o.groupBytes ?? DEFAULT_GROUP_BYTES,
      strideBytes: this.#o.strideBytes ?? DEFAULT_STRIDE_BYTES,
    });
    const cols = topology.nodes.filter((n) => (n.memTotalKb ?? 0) > 0);
    const bufferBytes = ringBytesFor(
      options.memoryBytes,
      cols.length,
      layoutOf(0).groupBytes,
      flushing,
    );
    let setupMs = 0;
    this.#forgetGone(topology, bufferBytes);

    // Rings of the columns asked for, opened once.
    for (const col of new Set(cells.map((c) => c.col))) {
      if (this.#rings.has(col) || this.#ringErrors.has(col)) continue;
      const node = topology.nodes.find((n) => n.id === col);
      const freeBytes = node?.memFreeKb == null ? null : node.memFreeKb * 1024;
      const opened = Ring.open(libc(), col, layoutOf(bufferBytes), this.#o.seed ?? 1, freeBytes);
      if (opened.ok) {
        this.#rings.set(col, opened.ring);
        setupMs += opened.ring.setupMs;
      } else this.#ringErrors.set(col, opened.reason);
    }

    this.#allowed ??= allowedCpus();
    const figures: CellFigure[] = [];
    let workerMs = 0;
    const abortFlag = new SharedArrayBuffer(4);
    const onAbort = () => Atomics.store(new Int32Array(abortFlag), 0, 1);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const rows = [...new Set(cells.map((c) => c.row))];
      for (const row of rows) {
        const rowCells = cells.filter((c) => c.row === row);
        const fail = (c: PtlCell, error: string) =>
          figures.push({ ...c, latencyNs: null, spread: null, error });
        const node = topology.nodes.find((n) => n.id === row);
        const cpu = node === undefined ? null : pickCpu(node, this.#allowed);
        if (cpu === null) {
          for (const c of rowCells) fail(c, `no usable CPU on node ${row}`);
          continue;
        }
        const light: LightCell[] = [];
        const asked: PtlCell[] = [];
        for (const c of rowCells) {
          const ring = this.#rings.get(c.col);
          if (ring === undefined) {
            fail(c, this.#ringErrors.get(c.col) ?? `no ring on node ${c.col}`);
            continue;
          }
          light.push(this.#cellOf(ring));
          asked.push(c);
        }
        if (light.length === 0) continue;
        const { handle, startMs } = await this.#worker(row, pause, resume);
        setupMs += startMs;
        pause();
        let reply: LightReply;
        try {
          reply = await handle.measureLight(
            { kind: "light", row, cpu, cells: light, flush: flushing, abortFlag },
            this.#o.timeoutMs ?? 10_000,
          );
        } catch (error) {
          handle.terminate();
          this.#workers.delete(row);
          resume();
          for (const c of asked) fail(c, (error as Error).message);
          continue;
        }
        resume();
        workerMs += reply.busyMs;
        if (flushing) this.#flush = reply.flush;
        reply.cells.forEach((r, i) => {
          const c = asked[i];
          if (c !== undefined) {
            figures.push({ ...c, latencyNs: r.latencyNs, spread: r.spread, error: r.error });
          }
        });
        if (options.signal?.aborted) break;
      }
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
    pause();
    return {
      figures,
      costMs: workerMs + mainMs,
      setupMs,
      method: this.method(topology.llcBytes, bufferBytes),
    };
  }

  /** The workers' flush status (calibration figures included), null before the first flushed refresh. */
  get flushStatus(): FlushStatus | null {
    return this.#flush;
  }

  /** The method and whether its figures are DRAM latency (see light_plan.ts). */
  method(llcBytes: number | null, bufferBytes: number): PtlMethod {
    const chosen = this.#chooseMethod();
    return describeMethod({
      kind: chosen.kind,
      fallbackReason: chosen.reason,
      flush: this.#flush,
      bufferBytes,
      llcBytes,
    });
  }

  /** The next groups of `ring` (its cycle continues where the last refresh stopped). */
  #cellOf(ring: Ring): LightCell {
    const { groups, position } = nextGroups(
      ring.plan,
      ring.position,
      this.#o.groupsPerCell ?? DEFAULT_GROUPS_PER_CELL,
    );
    ring.position = position;
    return {
      node: ring.node,
      address: ring.address,
      bufferBytes: ring.layout.bufferBytes,
      strideBytes: ring.layout.strideBytes,
      perGroup: ring.plan.perGroup,
      groups: groups.map((g) => ({
        offset: ring.plan.groupOffset[g]!,
        startWord: ring.plan.firstWord[g]!,
      })),
      roundsPerGroup: this.#o.roundsPerGroup ?? DEFAULT_ROUNDS_PER_GROUP,
    };
  }

  /** The kept worker of `row`, started (and its start timed as setup) when missing. */
  async #worker(
    row: number,
    pause: () => void,
    resume: () => void,
  ): Promise<{ handle: ProbeWorkerHandle; startMs: number }> {
    const kept = this.#workers.get(row);
    if (kept !== undefined && kept.healthy) return { handle: kept, startMs: 0 };
    kept?.terminate();
    const t0 = performance.now();
    const handle = new ProbeWorkerHandle(this.#o.workerUrl ?? WORKER_URL);
    this.#workers.set(row, handle);
    pause();
    await handle.ready();
    resume();
    return { handle, startMs: performance.now() - t0 };
  }

  /** Drop rings of nodes that are no longer columns or whose size no longer fits the budget. */
  #forgetGone(topology: Topology, bufferBytes: number): void {
    const cols = new Set(topology.nodes.filter((n) => (n.memTotalKb ?? 0) > 0).map((n) => n.id));
    const rows = new Set(topology.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id));
    for (const [node, ring] of this.#rings) {
      if (!cols.has(node) || ring.layout.bufferBytes !== bufferBytes) {
        ring[Symbol.dispose]();
        this.#rings.delete(node);
      }
    }
    for (const [node, handle] of this.#workers) {
      if (!rows.has(node)) {
        handle.terminate();
        this.#workers.delete(node);
      }
    }
    this.#ringErrors.clear();
  }

  /**
   * Terminate the workers and unmap the rings. During a refresh the rings
   * stay mapped: a worker being terminated may still be chasing one, and a
   * load from an unmapped page would kill the whole process.
   */
  close(): void {
    for (const handle of this.#workers.values()) handle.terminate();
    this.#workers.clear();
    if (this.#busy) return;
    for (const ring of this.#rings.values()) ring[Symbol.dispose]();
    this.#rings.clear();
  }
}
