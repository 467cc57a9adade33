/**
 * A ring: a small chase buffer bound to one memory node, mapped, faulted and
 * written ONCE, then kept for the daemon's life, and chased a few TLB groups
 * per refresh. Its single cycle continues from refresh to refresh: every
 * load goes to a line last touched a whole cycle ago (and, where the flush
 * loop is available, flushed right before).
 *
 * Rings live on the main thread's side of the process: the memory is shared
 * by every thread, so one ring per node serves every row worker (rows are
 * measured one at a time). Placement is by MPOL_BIND before the first touch,
 * so it does not matter which thread writes the chain.
 */
import { type Libc, MADV_HUGEPAGE, MPOL_BIND } from "../src/ffi/libc.ts";
import { Mapping } from "../src/ffi/owned.ts";
import { buildChaseOrder, type ChaseLayout, writeChain } from "./chase.ts";
import { placementProblem, sampleAddresses } from "./cell.ts";
import { memoryShortage } from "./plan.ts";
import { errorMessage } from "../src/core/error_message.ts";

const HUGE_PAGE_BYTES = 2 * 1024 * 1024;

/** Where the chase of one group starts and how the groups follow each other (pure). */
export interface RingPlan {
  /** Word index of the first element visited in each group, in visiting order. */
  firstWord: Uint32Array;
  /** Byte offset of each visited group, in visiting order. */
  groupOffset: Float64Array;
  /** Elements per group: loads to chase a group from its first element to the next group's. */
  perGroup: number;
}

/**
 * From the visiting order of the whole buffer (groups one after another):
 * chasing `perGroup` loads from `firstWord[i]` visits exactly group i and
 * ends on `firstWord[i + 1]` (wrapping), so a refresh knows which groups its
 * loads will touch without reading the chain (reading would cache it).
 */
export function planRing(order: Uint32Array, layout: ChaseLayout): RingPlan {
  const perGroup = layout.groupBytes / layout.strideBytes;
  const groups = layout.bufferBytes / layout.groupBytes;
  const wordsPerElement = layout.strideBytes / 4;
  const firstWord = new Uint32Array(groups);
  const groupOffset = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    const element = order[g * perGroup]!;
    firstWord[g] = element * wordsPerElement;
    groupOffset[g] = Math.floor(element / perGroup) * layout.groupBytes;
  }
  return { firstWord, groupOffset, perGroup };
}

/** The groups of the next `count` group-visits from `position` (wrapping), and the new position. */
export function nextGroups(
  plan: RingPlan,
  position: number,
  count: number,
): { groups: number[]; position: number } {
  const n = plan.firstWord.length;
  const groups: number[] = [];
  for (let k = 0; k < count; k++) groups.push((position + k) % n);
  return { groups, position: (position + count) % n };
}

export type RingResult = { ok: true; ring: Ring } | { ok: false; reason: string };

/** One node's ring buffer; dispose unmaps it (twice is harmless). */
export class Ring implements Disposable {
  readonly node: number;
  readonly layout: ChaseLayout;
  readonly plan: RingPlan;
  /** Address of the buffer (2 MiB aligned). */
  readonly address: bigint;
  /** Next group-visit to chase: the cycle continues from refresh to refresh. */
  position = 0;
  readonly #mapping: Mapping;

  private constructor(
    node: number,
    layout: ChaseLayout,
    plan: RingPlan,
    mapping: Mapping,
    address: bigint,
  ) {
    this.node = node;
    this.layout = layout;
    this.plan = plan;
    this.#mapping = mapping;
    this.address = address;
  }

  /**
   * Map, bind to `node`, write the chain (the first touch, so the pages land
   * on `node`) and verify where sampled pages landed. `freeBytes` is the
   * node's MemFree (null = unknown): a binding beyond it is OOM-killed.
   */
  static open(
    lib: Libc,
    node: number,
    layout: ChaseLayout,
    seed: number,
    freeBytes: number | null,
  ): RingResult {
    const shortage = memoryShortage(node, freeBytes, layout.bufferBytes);
    if (shortage !== null) return { ok: false, reason: shortage };
    const order = buildChaseOrder(layout, seed);
    using owned = new DisposableStack();
    let mapping: Mapping;
    try {
      // Over-map by one huge page so a 2 MiB-aligned start exists (THP needs
      // it); the pad is never touched, so it costs address space, not memory.
      mapping = owned.use(Mapping.anonymous(layout.bufferBytes + HUGE_PAGE_BYTES, lib));
    } catch (error) {
      return { ok: false, reason: errorMessage(error) };
    }
    const mappedAt = Deno.UnsafePointer.value(mapping.pointer);
    const huge = BigInt(HUGE_PAGE_BYTES);
    const pad = (huge - (mappedAt % huge)) % huge;
    const base = Deno.UnsafePointer.offset(mapping.pointer, Number(pad));
    if (base === null) return { ok: false, reason: "mmap returned an unusable address" };
    try {
      lib.madvise(base, layout.bufferBytes, MADV_HUGEPAGE);
    } catch {
      // THP off: the TLB-local groups keep misses rare anyway.
    }
    try {
      lib.mbind(base, layout.bufferBytes, MPOL_BIND, [node]);
      const words = new Uint32Array(
        Deno.UnsafePointerView.getArrayBuffer(base, layout.bufferBytes),
      );
      writeChain(words, order, layout.strideBytes);
      const sample = sampleAddresses(mappedAt + pad, layout.bufferBytes, layout.groupBytes);
      const problem = placementProblem(lib.queryPageNodes(0, new BigUint64Array(sample)), node);
      if (problem !== null) return { ok: false, reason: problem };
    } catch (error) {
      return { ok: false, reason: errorMessage(error) };
    }
    // Verified: the ring owns the mapping from here on.
    owned.move();
    return {
      ok: true,
      ring: new Ring(node, layout, planRing(order, layout), mapping, mappedAt + pad),
    };
  }

  get open(): boolean {
    return !this.#mapping.unmapped;
  }

  [Symbol.dispose](): void {
    this.#mapping[Symbol.dispose]();
  }
}
