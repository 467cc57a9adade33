/**
 * The pointer-chase layout, built as pure data: which element of the buffer
 * follows which. No FFI, no memory mapping: the worker writes what this module
 * computes, and the C reference of the benchmark chases the very same order.
 *
 * Why the shape:
 * - ONE cycle through every element. A plain Fisher-Yates shuffle used as a
 *   next-pointer table splits into many short cycles (about ln N of them): the
 *   chase then spins in a small cycle that fits in cache and under-reports the
 *   latency. Sattolo's variant of the shuffle only ever yields single cycles.
 * - TLB-local groups (the idea of google/multichase's `tlb_locality`): the
 *   buffer is cut into groups of `groupBytes`; the chase visits every element of
 *   one group, in random order, before it moves on to the next group (groups
 *   are themselves visited in a random single cycle). A group spans few pages,
 *   so the figure is the memory latency and not one TLB miss per load.
 * - Elements sit `strideBytes` apart (256 by default, as multichase) so the
 *   adjacent-line and next-line prefetchers fetch lines the chase never uses.
 * - A seeded PRNG (core/random.ts): same seed, same chase everywhere.
 */
import { seededRandom } from "../src/core/random.ts";
import { median } from "../src/core/stats.ts";

export interface ChaseLayout {
  /** Bytes of the buffer that carry the chase; a multiple of `groupBytes`. */
  bufferBytes: number;
  /** Bytes of one TLB-local group; a multiple of `strideBytes`. */
  groupBytes: number;
  /** Bytes between two elements; a multiple of 4 (one u32 word per element). */
  strideBytes: number;
}

/** 64 pages of 4 KiB, multichase's default: within the L1 dTLB of current x86 cores. */
export const DEFAULT_GROUP_BYTES = 64 * 4096;
/** Four cache lines: defeats adjacent-line (128 B) prefetch pairing. */
export const DEFAULT_STRIDE_BYTES = 256;

/** An integer in [0, n) from a [0, 1) source. */
function below(n: number, random: () => number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

/**
 * Sattolo's algorithm: a uniformly random cyclic permutation of 0..n-1, as a
 * next-index array (`next[i]` follows `i`). The only difference from
 * Fisher-Yates is `j < i` instead of `j <= i`, which is what forbids every
 * cycle shorter than n.
 */
export function sattoloCycle(n: number, random: () => number): Uint32Array {
  const next = new Uint32Array(n);
  for (let i = 0; i < n; i++) next[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = below(i, random);
    const t = next[i]!;
    next[i] = next[j]!;
    next[j] = t;
  }
  return next;
}

/** Checks the layout's arithmetic; returns a message per problem (empty = fine). */
export function layoutProblems(layout: ChaseLayout): string[] {
  const { bufferBytes, groupBytes, strideBytes } = layout;
  const problems: string[] = [];
  const whole = (name: string, v: number) => {
    if (!Number.isSafeInteger(v) || v <= 0) problems.push(`${name} ${v} is not a positive integer`);
  };
  whole("bufferBytes", bufferBytes);
  whole("groupBytes", groupBytes);
  whole("strideBytes", strideBytes);
  if (problems.length > 0) return problems;
  if (strideBytes % 4 !== 0) problems.push(`strideBytes ${strideBytes} is not a multiple of 4`);
  if (groupBytes % strideBytes !== 0) {
    problems.push(`groupBytes ${groupBytes} is not a multiple of strideBytes ${strideBytes}`);
  }
  if (bufferBytes % groupBytes !== 0) {
    problems.push(`bufferBytes ${bufferBytes} is not a multiple of groupBytes ${groupBytes}`);
  }
  // Element word indices must stay exact u32 values (and small ints in the JIT).
  if (bufferBytes / 4 > 0x7fffffff) problems.push(`bufferBytes ${bufferBytes} exceeds 8 GiB`);
  return problems;
}

/**
 * The visiting order of every element (element k lives at byte k × stride):
 * a single cycle, closing from the last entry back to the first. Groups are
 * chained by one Sattolo cycle; inside a group, a Sattolo cycle cut open at a
 * random element gives a random path through all of the group's elements.
 */
export function buildChaseOrder(layout: ChaseLayout, seed: number): Uint32Array {
  const problems = layoutProblems(layout);
  if (problems.length > 0) throw new RangeError(`chase layout: ${problems.join("; ")}`);
  const random = seededRandom(seed);
  const groups = layout.bufferBytes / layout.groupBytes;
  const perGroup = layout.groupBytes / layout.strideBytes;
  const order = new Uint32Array(groups * perGroup);
  const groupNext = sattoloCycle(groups, random);
  let at = 0;
  let group = 0;
  for (let g = 0; g < groups; g++) {
    const lineNext = sattoloCycle(perGroup, random);
    const start = below(perGroup, random);
    let line = start;
    const base = group * perGroup;
    for (let e = 0; e < perGroup; e++) {
      order[at++] = base + line;
      line = lineNext[line]!;
    }
    group = groupNext[group]!;
  }
  return order;
}

/** The next-index table of a visiting order: `next[order[k]] = order[k + 1]`, wrapping. */
export function orderToNext(order: Uint32Array): Uint32Array {
  const n = order.length;
  const next = new Uint32Array(n);
  for (let k = 0; k < n; k++) next[order[k]!] = order[(k + 1) % n]!;
  return next;
}

/**
 * True when `next` is one cycle through every index 0..n-1: starting at 0,
 * n steps visit n distinct indices and land back on 0. A shuffle with short
 * cycles, an out-of-range entry or a repeated target all fail.
 */
export function isSingleCycle(next: ArrayLike<number>): boolean {
  const n = next.length;
  if (n === 0) return false;
  const seen = new Uint8Array(n);
  let i = 0;
  for (let step = 0; step < n; step++) {
    if (seen[i] === 1) return false;
    seen[i] = 1;
    const j = next[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= n) return false;
    i = j;
  }
  return i === 0;
}

/**
 * Follows the chain `loads` times from word index `start` of `words` and
 * returns where it stopped. Each load's address is the previous load's value,
 * so the CPU cannot overlap them: the time per call over `loads` is the
 * latency of one load. Unrolled by 8 so the loop counter costs little; the
 * caller times whole calls (performance.now() costs about 100 ns itself).
 */
export function chaseLoads(words: Uint32Array, start: number, loads: number): number {
  let i = start;
  let left = loads;
  while (left >= 8) {
    i = words[i]!;
    i = words[i]!;
    i = words[i]!;
    i = words[i]!;
    i = words[i]!;
    i = words[i]!;
    i = words[i]!;
    i = words[i]!;
    left -= 8;
  }
  while (left > 0) {
    i = words[i]!;
    left--;
  }
  return i;
}

/**
 * Writes the chain into `words` (a u32 view of the buffer): the first word of
 * each element holds the word index of the next element. Written in visiting
 * order, so the elements written last (the ones still in cache) are the ones
 * the chase reaches last. Returns the word index to start chasing from.
 */
export function writeChain(words: Uint32Array, order: Uint32Array, strideBytes: number): number {
  const wordsPerElement = strideBytes / 4;
  const n = order.length;
  if (n === 0) throw new RangeError("writeChain: empty order");
  if (n * wordsPerElement > words.length) {
    throw new RangeError(`writeChain: ${n} elements need more than ${words.byteLength} bytes`);
  }
  for (let k = 0; k < n - 1; k++) {
    words[order[k]! * wordsPerElement] = order[k + 1]! * wordsPerElement;
  }
  words[order[n - 1]! * wordsPerElement] = order[0]! * wordsPerElement;
  return order[0]! * wordsPerElement;
}

/**
 * The median of per-round figures and their spread ((max - min) / median);
 * null when empty. One round has no spread to speak of: it is unknown (null),
 * not a measured 0, so steering never trusts it as noise-free.
 */
export function summarizeRounds(
  values: readonly number[],
): { median: number; spread: number | null } | null {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0 || finite.length !== values.length) return null;
  const middle = median(finite);
  if (!(middle > 0)) return null;
  if (finite.length < 2) return { median: middle, spread: null };
  return { median: middle, spread: (Math.max(...finite) - Math.min(...finite)) / middle };
}
