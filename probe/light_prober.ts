/**
 * `LightProber`: the daemon's budgeted refresh of chosen PTL cells. It keeps,
 * between refreshes, one ring per memory node (probe/ring.ts) and the flush
 * loop, so a refresh is a few thousand loads per cell. The full chase
 * (probe/prober.ts) stays what `waspd probe` and the forced `r` use.
 *
 * No Worker: a refresh of a cell takes well under a millisecond, so the
 * calling thread moves itself onto a CPU of the row node for the chase
 * (sched_setaffinity on itself, confirmed with sched_getcpu) and back to its
 * own CPU set after. A kept Worker would cost about 16 MB of RSS for that.
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
import { type FlushStatus, type LightCell, LightChaser } from "./light.ts";
import { pickCpu } from "./plan.ts";
import { allowedCpus } from "./prober.ts";
import { nextGroups, Ring } from "./ring.ts";
import { describeMethod, ringBytesFor } from "./light_plan.ts";
import { ptlColNodes } from "../src/core/ptl_axes.ts";
import { errorMessage } from "../src/core/error_message.ts";

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
}

export const DEFAULT_GROUPS_PER_CELL = 2;
export const DEFAULT_ROUNDS_PER_GROUP = 4;

export class LightProber implements PtlRefresher {
  readonly #o: LightProberOptions;
  readonly #rings = new Map<number, Ring>();
  readonly #ringErrors = new Map<number, string>();
  #chaser: LightChaser | null = null;
  #allowed: Set<number> | null | undefined = undefined;
  #busy = false;

  constructor(options: LightProberOptions = {}) {
    this.#o = options;
  }

  /** The chaser, opened once: flushing where this process may execute its own page. */
  #chaserNow(): LightChaser {
    this.#chaser ??= new LightChaser(libc(), this.#o.method !== "ring");
    return this.#chaser;
  }

  async refresh(
    topology: Topology,
    cells: readonly PtlCell[],
    options: RefreshOptions,
  ): Promise<RefreshResult> {
    if (this.#busy) throw new Error("a PTL refresh is already running");
    this.#busy = true;
    try {
      return await Promise.resolve(this.#refresh(topology, cells, options));
    } finally {
      this.#busy = false;
    }
  }

  /** Synchronous on purpose: the rings must not be closed under a chase. */
  #refresh(
    topology: Topology,
    cells: readonly PtlCell[],
    options: RefreshOptions,
  ): RefreshResult {
    const cpu0 = libc().threadCpuMs();
    const chaser = this.#chaserNow();
    const layoutOf = (bufferBytes: number) => ({
      bufferBytes,
      groupBytes: this.#o.groupBytes ?? DEFAULT_GROUP_BYTES,
      strideBytes: this.#o.strideBytes ?? DEFAULT_STRIDE_BYTES,
    });
    const cols = ptlColNodes(topology);
    const bufferBytes = ringBytesFor(
      options.memoryBytes,
      cols.length,
      layoutOf(0).groupBytes,
      chaser.flushing,
    );
    let setupMs = 0;
    this.#forgetGone(topology, bufferBytes);

    // Rings of the columns asked for, opened once.
    for (const col of new Set(cells.map((c) => c.col))) {
      if (this.#rings.has(col) || this.#ringErrors.has(col)) continue;
      const node = topology.nodes.find((n) => n.id === col);
      const freeBytes = node?.memFreeKb == null ? null : node.memFreeKb * 1024;
      const before = libc().threadCpuMs();
      const opened = Ring.open(libc(), col, layoutOf(bufferBytes), this.#o.seed ?? 1, freeBytes);
      setupMs += libc().threadCpuMs() - before;
      if (opened.ok) this.#rings.set(col, opened.ring);
      else this.#ringErrors.set(col, opened.reason);
    }

    this.#allowed ??= allowedCpus();
    const figures: CellFigure[] = [];
    const rows = [...new Set(cells.map((c) => c.row))];
    for (const row of rows) {
      if (options.signal?.aborted) break;
      const rowCells = cells.filter((c) => c.row === row);
      const node = topology.nodes.find((n) => n.id === row);
      const cpu = node === undefined ? null : pickCpu(node, this.#allowed);
      const pinError = cpu === null ? `no usable CPU on node ${row}` : null;
      figures.push(...this.#measureRow(chaser, rowCells, cpu, pinError));
    }
    return {
      figures,
      // CPU time, not wall time: on a busy machine the pinned chase may wait for its CPU.
      costMs: libc().threadCpuMs() - cpu0 - setupMs,
      setupMs,
      method: this.method(topology.llcBytes, bufferBytes),
    };
  }

  /**
   * The cells of one row, chased on a CPU of the row node: this thread moves
   * there for the chase and back to its own CPU set after, whatever happens.
   */
  #measureRow(
    chaser: LightChaser,
    rowCells: readonly PtlCell[],
    cpu: number | null,
    pinError: string | null,
  ): CellFigure[] {
    const fail = (c: PtlCell, error: string) => ({ ...c, latencyNs: null, spread: null, error });
    if (cpu === null) return rowCells.map((c) => fail(c, pinError ?? "no CPU"));
    const lib = libc();
    let saved: number[];
    try {
      saved = lib.getAffinity(0);
      lib.setAffinity(0, [cpu]);
    } catch (error) {
      return rowCells.map((c) => fail(c, `pinning to CPU ${cpu}: ${errorMessage(error)}`));
    }
    try {
      const running = lib.schedGetcpu();
      if (running !== cpu) {
        return rowCells.map((c) => fail(c, `pinned to CPU ${cpu} but running on CPU ${running}`));
      }
      return rowCells.map((c) => {
        const ring = this.#rings.get(c.col);
        if (ring === undefined) {
          return fail(c, this.#ringErrors.get(c.col) ?? `no ring on ${c.col}`);
        }
        const r = chaser.chase(this.#cellOf(ring));
        return { ...c, latencyNs: r.latencyNs, spread: r.spread, error: r.error };
      });
    } finally {
      try {
        lib.setAffinity(0, saved);
      } catch {
        // The CPU set it had cannot be refused back; nothing better to do.
      }
    }
  }

  /** Flushing availability and its calibration figures; null before the first refresh. */
  get flushStatus(): FlushStatus | null {
    return this.#chaser?.status ?? null;
  }

  /** The method and whether its figures are DRAM latency (see light_plan.ts). */
  method(llcBytes: number | null, bufferBytes: number): PtlMethod {
    const chaser = this.#chaserNow();
    return describeMethod({
      kind: chaser.flushing ? "flush" : "ring",
      fallbackReason: chaser.flushing ? null : chaser.status.reason,
      flush: chaser.status,
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

  /** Drop rings of nodes that are no longer columns or whose size no longer fits the budget. */
  #forgetGone(topology: Topology, bufferBytes: number): void {
    const cols = new Set(ptlColNodes(topology).map((n) => n.id));
    for (const [node, ring] of this.#rings) {
      if (!cols.has(node) || ring.layout.bufferBytes !== bufferBytes) {
        this.#chaser?.forget(ring.address);
        ring[Symbol.dispose]();
        this.#rings.delete(node);
      }
    }
    this.#ringErrors.clear();
  }

  /**
   * Unmap the rings and the flush page; the next refresh opens them again.
   * A refresh runs synchronously, so no chase can be under way here.
   */
  close(): void {
    for (const ring of this.#rings.values()) ring[Symbol.dispose]();
    this.#rings.clear();
    this.#chaser?.[Symbol.dispose]();
    this.#chaser = null;
  }
}
