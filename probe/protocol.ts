/**
 * The messages between the prober (main thread) and a probe worker. Plain
 * data: they cross the Worker boundary by structured clone.
 */

/** How one cell is chased; the same for every cell of a measurement. */
export interface ChaseParams {
  bufferBytes: number;
  groupBytes: number;
  strideBytes: number;
  seed: number;
  /** Loads chased and thrown away before timing (caches, TLB, page-walk caches settle). */
  warmupLoads: number;
  /** Dependent loads per timed round. */
  loadsPerRound: number;
  rounds: number;
}

/** Measure one row: pin to `cpu` (a CPU of node `row`) and chase a buffer on each of `cols`. */
export interface RowRequest {
  kind: "row";
  row: number;
  cpu: number;
  cols: number[];
  params: ChaseParams;
  /**
   * One Int32 set to 1 by the main thread on abort. A worker busy chasing
   * cannot receive messages, so it polls this between rounds and frees its
   * buffer before it answers: terminating it mid-cell would leak the mapping.
   */
  abortFlag: SharedArrayBuffer;
  /** Where sysfs is (`--sys-root`): each cell's free-memory guard reads node meminfo there. */
  sysRoot: string;
}

export interface CellResult {
  node: number;
  /** Median ns per load, or null when the cell failed. */
  latencyNs: number | null;
  spread: number | null;
  error: string | null;
  /** ns per load of every timed round (for the benchmark and debugging). */
  roundsNs: number[];
  /** Pages whose node move_pages confirmed. */
  pagesVerified: number;
  /** madvise(MADV_HUGEPAGE) was accepted (THP may still not be granted). */
  hugePageAdvice: boolean;
  /** Time to map, bind, fault in and write the chain, and verify placement. */
  setupMs: number;
  /** Time of the warm-up and the timed rounds. */
  chaseMs: number;
}

export interface RowReply {
  kind: "row";
  row: number;
  /** The CPU sched_getcpu() reported after pinning, or null when pinning failed. */
  cpu: number | null;
  cells: CellResult[];
  /** Set when the whole row failed (pinning) or was aborted. */
  error: string | null;
  aborted: boolean;
  /** Time to build the chase order (once per row). */
  orderMs: number;
}

export interface ReadyReply {
  kind: "ready";
}

export type WorkerReply = RowReply | ReadyReply;

/** A cell that has no latency: why is in `error` (a failed cell is never a figure). */
export function failedCell(node: number, error: string, hugePageAdvice = false): CellResult {
  return {
    node,
    latencyNs: null,
    spread: null,
    error,
    roundsNs: [],
    pagesVerified: 0,
    hugePageAdvice,
    setupMs: 0,
    chaseMs: 0,
  };
}

/** A row whose every cell failed for the same reason. */
export function failedRow(
  row: number,
  cols: readonly number[],
  error: string,
  aborted = false,
): RowReply {
  return {
    kind: "row",
    row,
    cpu: null,
    error,
    aborted,
    orderMs: 0,
    cells: cols.map((node) => failedCell(node, error)),
  };
}
