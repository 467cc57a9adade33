/**
 * One cell of the matrix, measured on the calling thread (a pinned probe
 * worker): map a buffer, bind it to the destination node before its first
 * touch, write the chain, confirm where the pages landed, chase, unmap.
 * A failed step yields an error string for the cell, never a latency.
 */
import { type Libc, MADV_HUGEPAGE, MPOL_BIND } from "../src/ffi/libc.ts";
import { Mapping } from "../src/ffi/owned.ts";
import { chaseLoads, summarizeRounds, writeChain } from "./chase.ts";
import { memoryShortage } from "./plan.ts";
import { parseNodeMeminfo } from "../src/core/topology_parse.ts";
import { type CellResult, type ChaseParams, failedCell as failed } from "./protocol.ts";
import { errorMessage } from "../src/core/error_message.ts";

const HUGE_PAGE_BYTES = 2 * 1024 * 1024;
const PAGE_BYTES = 4096;

/**
 * Addresses to check with move_pages: one per TLB group (at a page offset that
 * moves from group to group) plus the first and last page. All pages would
 * cost a syscall walk of the whole buffer; a group is the unit the kernel
 * allocates together under THP anyway.
 */
export function sampleAddresses(base: bigint, bufferBytes: number, groupBytes: number): bigint[] {
  const pagesPerGroup = Math.max(1, Math.floor(groupBytes / PAGE_BYTES));
  const out: bigint[] = [base, base + BigInt(bufferBytes - PAGE_BYTES)];
  for (let g = 0, off = 0; off < bufferBytes; g++, off += groupBytes) {
    const page = g % pagesPerGroup;
    out.push(base + BigInt(off + page * PAGE_BYTES));
  }
  return out;
}

/** A readable summary of move_pages answers that are not `node`, or null when all are. */
export function placementProblem(status: ArrayLike<number>, node: number): string | null {
  const elsewhere = new Map<number, number>();
  for (let i = 0; i < status.length; i++) {
    const s = status[i]!;
    if (s !== node) elsewhere.set(s, (elsewhere.get(s) ?? 0) + 1);
  }
  if (elsewhere.size === 0) return null;
  const parts = [...elsewhere].map(([where, count]) =>
    where >= 0 ? `${count} on node ${where}` : `${count} with error ${-where}`
  );
  return `placement: ${parts.join(", ")} of ${status.length} sampled pages, expected node ${node}`;
}

/** MemFree of `node` now, from sysfs under `sysRoot`; null when unreadable (then not guarded). */
function nodeFreeBytes(sysRoot: string, node: number): number | null {
  try {
    const text = Deno.readTextFileSync(`${sysRoot}/devices/system/node/node${node}/meminfo`);
    const kb = parseNodeMeminfo(text).memFreeKb;
    return kb === null ? null : kb * 1024;
  } catch {
    return null;
  }
}

/** mmap `bytes`, or the reason it failed. */
function tryMap(lib: Libc, bytes: number): Mapping | string {
  try {
    return Mapping.anonymous(bytes, lib);
  } catch (error) {
    return errorMessage(error);
  }
}

/**
 * Measure latency from this thread to a fresh buffer on `node`. `sysRoot` is
 * where sysfs is (`--sys-root`): the free-memory guard reads the node's meminfo there.
 */
export function measureCell(
  lib: Libc,
  node: number,
  params: ChaseParams,
  order: Uint32Array,
  aborted: () => boolean,
  sysRoot: string,
): CellResult {
  const { bufferBytes } = params;
  const t0 = performance.now();
  const shortage = memoryShortage(node, nodeFreeBytes(sysRoot, node), bufferBytes);
  if (shortage !== null) return failed(node, shortage);
  // Over-map by one huge page so a 2 MiB-aligned start exists: only aligned
  // 2 MiB ranges can become transparent huge pages.
  const mapped = tryMap(lib, bufferBytes + HUGE_PAGE_BYTES);
  if (typeof mapped === "string") return failed(node, mapped);
  // Unmapped on every way out, the failed cells and an abort included.
  using mapping = mapped;
  const mappedAt = Deno.UnsafePointer.value(mapping.pointer);
  const pad = (BigInt(HUGE_PAGE_BYTES) - (mappedAt % BigInt(HUGE_PAGE_BYTES))) %
    BigInt(HUGE_PAGE_BYTES);
  const base = Deno.UnsafePointer.offset(mapping.pointer, Number(pad));
  if (base === null) return failed(node, "mmap returned an unusable address");
  const baseValue = mappedAt + pad;

  let hugePageAdvice = true;
  try {
    lib.madvise(base, bufferBytes, MADV_HUGEPAGE);
  } catch {
    // THP disabled or unsupported: the TLB-local groups still keep TLB
    // misses rare, so this is a note, not a failure.
    hugePageAdvice = false;
  }
  try {
    lib.mbind(base, bufferBytes, MPOL_BIND, [node]);
  } catch (error) {
    return failed(node, errorMessage(error), hugePageAdvice);
  }

  const words = new Uint32Array(Deno.UnsafePointerView.getArrayBuffer(base, bufferBytes));
  const start = writeChain(words, order, params.strideBytes);

  const sample = sampleAddresses(baseValue, bufferBytes, params.groupBytes);
  let status: Int32Array;
  try {
    status = lib.queryPageNodes(0, new BigUint64Array(sample));
  } catch (error) {
    return failed(node, `placement not verified: ${errorMessage(error)}`, hugePageAdvice);
  }
  const problem = placementProblem(status, node);
  if (problem !== null) return failed(node, problem, hugePageAdvice);

  const t1 = performance.now();
  let at = chaseLoads(words, start, params.warmupLoads);
  const roundsNs: number[] = [];
  for (let r = 0; r < params.rounds; r++) {
    if (aborted()) return failed(node, "aborted", hugePageAdvice);
    const before = performance.now();
    at = chaseLoads(words, at, params.loadsPerRound);
    const after = performance.now();
    roundsNs.push(((after - before) * 1e6) / params.loadsPerRound);
  }
  // `at` is a valid word index only if the chain was followed for real; a
  // check the JIT cannot drop keeps the loads alive.
  if (at < 0 || at >= words.length) return failed(node, `chase ended out of range (${at})`);
  const summary = summarizeRounds(roundsNs);
  if (summary === null) return failed(node, "no usable timing rounds", hugePageAdvice);
  return {
    node,
    latencyNs: summary.median,
    spread: summary.spread,
    error: null,
    roundsNs,
    pagesVerified: sample.length,
    hugePageAdvice,
    setupMs: t1 - t0,
    chaseMs: performance.now() - t1,
  };
}
