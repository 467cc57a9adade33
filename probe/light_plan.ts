/**
 * The light refresh's decisions that need no machine (pure, tested): how big
 * a ring each node gets from the memory budget, and whether the figures it
 * gives are memory latency or must be labelled as something else.
 */
import type { PtlMethod } from "../src/core/types.ts";
import type { FlushStatus } from "./light.ts";

const MIB = 1024 * 1024;
/**
 * With flushing, a ring only needs to span a few TLB groups: every chased
 * line comes from DRAM whatever the size. 2 MiB is one huge page (one TLB
 * entry, as the full chase's groups mostly see) holding 8 groups of 256 KiB,
 * so consecutive refreshes chase different lines; more would only add RSS.
 */
export const FLUSH_RING_BYTES = 2 * MIB;
/** The ring must exceed the LLC this many times for an unflushed chase to miss it (as the full chase). */
export const LLC_FACTOR = 4;
/** A flushed chase must be this many times slower than a cached one, or the flush is not working. */
export const MIN_FLUSH_EFFECT = 1.5;

/**
 * Bytes of each node's ring: the memory budget shared by the columns (at
 * most FLUSH_RING_BYTES when flushing; all of it otherwise, since an
 * unflushed ring is honest only when large), in whole TLB groups, at least one.
 */
export function ringBytesFor(
  memoryBytes: number,
  cols: number,
  groupBytes: number,
  flushing: boolean,
): number {
  const share = Math.floor(memoryBytes / Math.max(1, cols));
  const capped = flushing ? Math.min(share, FLUSH_RING_BYTES) : share;
  return Math.max(groupBytes, Math.floor(capped / groupBytes) * groupBytes);
}

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes < MIB ? 2 : 0)} MiB`;
}

/** What the figures are: DRAM latency (honest) or not, and the one line that says why. */
export function describeMethod(p: {
  kind: "flush" | "ring";
  /** Why flushing is not used (exec memory refused, ...), when kind is ring. */
  fallbackReason: string | null;
  flush: FlushStatus | null;
  bufferBytes: number;
  llcBytes: number | null;
}): PtlMethod {
  const base = { bufferBytes: p.bufferBytes };
  if (p.kind === "flush") {
    const f = p.flush;
    if (f !== null && !f.ok) {
      return { ...base, method: "flush", dram: false, note: `flush unavailable: ${f.reason}` };
    }
    if (f?.cachedNs != null && f.flushedNs != null && f.flushedNs < MIN_FLUSH_EFFECT * f.cachedNs) {
      return {
        ...base,
        method: "flush",
        dram: false,
        note: `flushing shows no effect here (${f.flushedNs.toFixed(0)} ns flushed vs ` +
          `${f.cachedNs.toFixed(0)} ns cached): not memory latency`,
      };
    }
    return {
      ...base,
      method: "flush",
      dram: true,
      note: `${f?.instruction ?? "clflush"} before each chase, ${mib(p.bufferBytes)} ring per node`,
    };
  }
  const why = p.fallbackReason === null ? "" : ` (${p.fallbackReason})`;
  if (p.llcBytes === null) {
    return {
      ...base,
      method: "ring",
      dram: false,
      note: `no flush${why}; LLC size unknown: ${mib(p.bufferBytes)} ring may be cache latency`,
    };
  }
  if (p.bufferBytes < LLC_FACTOR * p.llcBytes) {
    return {
      ...base,
      method: "ring",
      dram: false,
      note: `no flush${why}; ${mib(p.bufferBytes)} ring per node is under ${LLC_FACTOR} x LLC ` +
        `(${mib(p.llcBytes)}): cache latency, not memory latency (raise --ptl-memory)`,
    };
  }
  return {
    ...base,
    method: "ring",
    dram: true,
    note: `no flush${why}; ${mib(p.bufferBytes)} ring per node, ${LLC_FACTOR} x LLC or more`,
  };
}
