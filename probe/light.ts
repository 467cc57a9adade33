/**
 * The light refresh, worker side: for each requested cell, flush the lines of
 * the next TLB groups of that node's ring (when a flusher exists), then chase
 * exactly those groups in timed rounds. The figure is the median round.
 *
 * A handful of groups per cell (a few thousand loads, well under a
 * millisecond) instead of mapping, faulting and writing a 4 × LLC buffer per
 * cell: the one-time costs are paid once, when the rings are opened.
 */
import type { Libc } from "../src/ffi/libc.ts";
import { chaseLoads, summarizeRounds } from "./chase.ts";
import { type FlushSupport, openFlusher } from "./flush.ts";

/** One cell: a row worker chasing `groups` of the ring of `node`. */
export interface LightCell {
  node: number;
  /** The ring's address (shared memory of the process) and size. */
  address: bigint;
  bufferBytes: number;
  strideBytes: number;
  /** Elements per group: each group is chased from its first element, one load per element. */
  perGroup: number;
  /** The group-visits to chase, in order: byte offset of the group and word to start from. */
  groups: { offset: number; startWord: number }[];
  /** Timed rounds per group (loads per round = perGroup / roundsPerGroup). */
  roundsPerGroup: number;
}

export interface LightRequest {
  kind: "light";
  row: number;
  cpu: number;
  cells: LightCell[];
  /** Flush each group before chasing it (false: the fallback, or a comparison run). */
  flush: boolean;
  abortFlag: SharedArrayBuffer;
}

export interface LightCellResult {
  node: number;
  latencyNs: number | null;
  spread: number | null;
  error: string | null;
  roundsNs: number[];
  flushMs: number;
  chaseMs: number;
}

/** Whether this worker can flush, and (on its first flushed chase) the check that flushing works. */
export interface FlushStatus {
  ok: boolean;
  instruction: string | null;
  reason: string | null;
  /** ns per load of a group just chased (in cache) and of the same group flushed, or null. */
  cachedNs: number | null;
  flushedNs: number | null;
}

export interface LightReply {
  kind: "light";
  row: number;
  cpu: number | null;
  cells: LightCellResult[];
  error: string | null;
  flush: FlushStatus;
  /** Wall time the worker spent on the request (it is CPU-bound throughout). */
  busyMs: number;
}

let support: FlushSupport | null = null;
let calibration: { cachedNs: number; flushedNs: number } | null = null;
const views = new Map<bigint, Uint32Array>();

function flushStatus(): FlushStatus {
  if (support === null || !support.ok) {
    return {
      ok: false,
      instruction: null,
      reason: support?.ok === false ? support.reason : "not tried",
      cachedNs: null,
      flushedNs: null,
    };
  }
  return {
    ok: true,
    instruction: support.flusher.instruction,
    reason: null,
    cachedNs: calibration?.cachedNs ?? null,
    flushedNs: calibration?.flushedNs ?? null,
  };
}

function viewOf(cell: LightCell): { words: Uint32Array; base: Deno.PointerObject } {
  const base = Deno.UnsafePointer.create(cell.address);
  if (base === null) throw new RangeError(`ring of node ${cell.node}: null address`);
  let words = views.get(cell.address);
  if (words === undefined || words.byteLength !== cell.bufferBytes) {
    words = new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(base, cell.bufferBytes));
    views.set(cell.address, words);
  }
  return { words, base };
}

/** Chase the cell's groups; flush each first when a flusher is given. */
function chaseCell(
  cell: LightCell,
  flush: ((base: Deno.PointerObject, offset: number) => void) | null,
  aborted: () => boolean,
): LightCellResult {
  const { words, base } = viewOf(cell);
  const loadsPerRound = Math.max(1, Math.floor(cell.perGroup / cell.roundsPerGroup));
  const roundsNs: number[] = [];
  let flushMs = 0;
  let chaseMs = 0;
  let at = 0;
  for (const group of cell.groups) {
    if (aborted()) break;
    const t0 = performance.now();
    flush?.(base, group.offset);
    const t1 = performance.now();
    at = group.startWord;
    for (let r = 0; r < cell.roundsPerGroup; r++) {
      const before = performance.now();
      at = chaseLoads(words, at, loadsPerRound);
      roundsNs.push(((performance.now() - before) * 1e6) / loadsPerRound);
    }
    flushMs += t1 - t0;
    chaseMs += performance.now() - t1;
  }
  const failed = (error: string): LightCellResult => ({
    node: cell.node,
    latencyNs: null,
    spread: null,
    error,
    roundsNs,
    flushMs,
    chaseMs,
  });
  if (aborted()) return failed("aborted");
  // `at` is a word index only if the chain was really followed: the JIT cannot drop the loads.
  if (at < 0 || at >= words.length) return failed(`chase ended out of range (${at})`);
  const summary = summarizeRounds(roundsNs);
  if (summary === null) return failed("no usable timing rounds");
  return {
    node: cell.node,
    latencyNs: summary.median,
    spread: summary.spread,
    error: null,
    roundsNs,
    flushMs,
    chaseMs,
  };
}

/**
 * The first flushed chase of this worker also chases its first group again
 * at once (now in cache): a flush that works makes the first figure several
 * times the second. Done once per worker; the result rides in every reply.
 */
function calibrate(cell: LightCell, flushed: LightCellResult): void {
  const first = cell.groups[0];
  if (calibration !== null || first === undefined || flushed.latencyNs === null) return;
  const { words } = viewOf(cell);
  chaseLoads(words, first.startWord, cell.perGroup);
  const before = performance.now();
  chaseLoads(words, first.startWord, cell.perGroup);
  const cachedNs = ((performance.now() - before) * 1e6) / cell.perGroup;
  calibration = { cachedNs, flushedNs: flushed.latencyNs };
}

/** Measure the request's cells on this (already pinned) thread. */
export function measureLight(lib: Libc, request: LightRequest, cpu: number): LightReply {
  const t0 = performance.now();
  const flag = new Int32Array(request.abortFlag);
  const aborted = () => Atomics.load(flag, 0) !== 0;
  if (request.flush && support === null) support = openFlusher(lib);
  const flusher = request.flush && support?.ok === true ? support.flusher : null;
  const cells: LightCellResult[] = [];
  for (const cell of request.cells) {
    const flush = flusher === null
      ? null
      : (base: Deno.PointerObject, offset: number) =>
        flusher.flush(base, offset, cell.perGroup, cell.strideBytes);
    const result = chaseCell(cell, flush, aborted);
    if (flusher !== null) calibrate(cell, result);
    cells.push(result);
  }
  return {
    kind: "light",
    row: request.row,
    cpu,
    cells,
    error: null,
    flush: flushStatus(),
    busyMs: performance.now() - t0,
  };
}

/** A reply for a row that could not be measured at all. */
export function failedLight(request: LightRequest, error: string): LightReply {
  return {
    kind: "light",
    row: request.row,
    cpu: null,
    cells: request.cells.map((c) => ({
      node: c.node,
      latencyNs: null,
      spread: null,
      error,
      roundsNs: [],
      flushMs: 0,
      chaseMs: 0,
    })),
    error,
    flush: flushStatus(),
    busyMs: 0,
  };
}
