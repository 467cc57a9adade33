/**
 * The light chase of one cell, on the calling thread: flush the lines of the
 * next TLB groups of a node's ring (when a flusher exists), then chase
 * exactly those groups in timed rounds. The figure is the median round.
 *
 * A couple of groups per cell (2048 loads, well under a millisecond) instead
 * of mapping, faulting and writing a 4 x LLC buffer per cell: the one-time
 * costs are paid once, when the rings are opened.
 */
import type { Libc } from "../src/ffi/libc.ts";
import { chaseLoads, summarizeRounds } from "./chase.ts";
import { type Flusher, openFlusher } from "./flush.ts";

/** One cell: chase `groups` of the ring of `node`. */
export interface LightCell {
  node: number;
  /** The ring's address and size. */
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

export interface LightCellResult {
  node: number;
  latencyNs: number | null;
  spread: number | null;
  error: string | null;
  roundsNs: number[];
  flushMs: number;
  chaseMs: number;
}

/** Whether flushing is available, and the check (on the first flushed chase) that it works. */
export interface FlushStatus {
  ok: boolean;
  instruction: string | null;
  reason: string | null;
  /** ns per load of a group just chased (in cache) and of the same group flushed, or null. */
  cachedNs: number | null;
  flushedNs: number | null;
}

/** Chases cells of rings; owns the flush loop's page (dispose unmaps it). */
export class LightChaser {
  readonly #flusher: Flusher | null;
  readonly #reason: string | null;
  #calibration: { cachedNs: number; flushedNs: number } | null = null;
  readonly #views = new Map<bigint, Uint32Array>();

  /** `flush`: try to flush (the fallback or a comparison passes false). */
  constructor(lib: Libc, flush: boolean) {
    if (!flush) {
      this.#flusher = null;
      this.#reason = "not asked for";
      return;
    }
    const support = openFlusher(lib);
    this.#flusher = support.ok ? support.flusher : null;
    this.#reason = support.ok ? null : support.reason;
  }

  get flushing(): boolean {
    return this.#flusher !== null;
  }

  get status(): FlushStatus {
    return {
      ok: this.#flusher !== null,
      instruction: this.#flusher?.instruction ?? null,
      reason: this.#reason,
      cachedNs: this.#calibration?.cachedNs ?? null,
      flushedNs: this.#calibration?.flushedNs ?? null,
    };
  }

  #viewOf(cell: LightCell): { words: Uint32Array; base: Deno.PointerObject } {
    const base = Deno.UnsafePointer.create(cell.address);
    if (base === null) throw new RangeError(`ring of node ${cell.node}: null address`);
    let words = this.#views.get(cell.address);
    if (words === undefined || words.byteLength !== cell.bufferBytes) {
      words = new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(base, cell.bufferBytes));
      this.#views.set(cell.address, words);
    }
    return { words, base };
  }

  /** Forget the view of a ring about to be unmapped. */
  forget(address: bigint): void {
    this.#views.delete(address);
  }

  /** Chase the cell's groups, each flushed first when flushing. */
  chase(cell: LightCell): LightCellResult {
    const { words, base } = this.#viewOf(cell);
    const flusher = this.#flusher;
    const loadsPerRound = Math.max(1, Math.floor(cell.perGroup / cell.roundsPerGroup));
    const roundsNs: number[] = [];
    let flushMs = 0;
    let chaseMs = 0;
    let at = 0;
    for (const group of cell.groups) {
      const t0 = performance.now();
      flusher?.flush(base, group.offset, cell.perGroup, cell.strideBytes);
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
    const result = { node: cell.node, roundsNs, flushMs, chaseMs };
    // `at` is a word index only if the chain was really followed: the JIT cannot drop the loads.
    if (at < 0 || at >= words.length) {
      return {
        ...result,
        latencyNs: null,
        spread: null,
        error: `chase ended out of range (${at})`,
      };
    }
    const summary = summarizeRounds(roundsNs);
    if (summary === null) {
      return { ...result, latencyNs: null, spread: null, error: "no usable timing rounds" };
    }
    if (flusher !== null) this.#calibrate(cell, words, summary.median);
    return { ...result, latencyNs: summary.median, spread: summary.spread, error: null };
  }

  /**
   * Once: chase the first group of a flushed cell again at once (now in
   * cache). A flush that works makes the flushed figure several times this one.
   */
  #calibrate(cell: LightCell, words: Uint32Array, flushedNs: number): void {
    const first = cell.groups[0];
    if (this.#calibration !== null || first === undefined) return;
    chaseLoads(words, first.startWord, cell.perGroup);
    const before = performance.now();
    chaseLoads(words, first.startWord, cell.perGroup);
    const cachedNs = ((performance.now() - before) * 1e6) / cell.perGroup;
    this.#calibration = { cachedNs, flushedNs };
  }

  [Symbol.dispose](): void {
    this.#flusher?.[Symbol.dispose]();
    this.#views.clear();
  }
}
