/**
 * What a measurement will do, decided from the topology alone (pure): which
 * nodes are rows and columns, which CPU each row runs on, how big a buffer.
 */
import type { NumaNode, Topology } from "../src/core/types.ts";
import { DEFAULT_GROUP_BYTES } from "./chase.ts";
import { ptlColNodes, ptlRowNodes } from "../src/core/ptl_axes.ts";

const MIB = 1024 * 1024;
/** Floor of the buffer: well past any single-socket LLC of today when the LLC is unknown. */
export const MIN_DESIRED_BUFFER_BYTES = 64 * MIB;
/**
 * Ceiling of the buffer. 4 x the largest LLC one core reaches today (96 MiB
 * of stacked L3 per CCD) fits under it; an LLC reported larger is a VM's
 * or a misread whole-socket figure. Past it a bigger buffer changes the
 * figure no more (the loads already miss the cache and the TLB), but it is
 * paged in on every node for every row: a 384 MiB "LLC" meant 1.5 GiB per node.
 */
export const MAX_DESIRED_BUFFER_BYTES = 512 * MIB;
/** Smallest buffer worth measuring: below it the figure is cache latency, not memory. */
export const MIN_BUFFER_BYTES = 8 * MIB;
/** Only this share of a node's free memory is used: MPOL_BIND beyond it is OOM-killed. */
export const FREE_MEMORY_SHARE = 1 / 4;

/** Free memory a node must keep beyond the buffer: watermarks, page tables, other tenants. */
export const FREE_MEMORY_HEADROOM_BYTES = 32 * MIB;

/**
 * Why a buffer of `bufferBytes` must not be bound to a node with `freeBytes`
 * free right now, or null when it fits. Free memory is read again just before
 * each cell: it moves while a measurement runs (workers start, page cache
 * grows), and an MPOL_BIND allocation past it gets the whole daemon killed by
 * the OOM killer, not just the cell.
 */
export function memoryShortage(
  node: number,
  freeBytes: number | null,
  bufferBytes: number,
): string | null {
  if (freeBytes === null) return null;
  const needed = bufferBytes + FREE_MEMORY_HEADROOM_BYTES;
  if (freeBytes >= needed) return null;
  return `node ${node} has ${(freeBytes / MIB).toFixed(0)} MiB free, ${
    (needed / MIB).toFixed(0)
  } MiB needed for a ${(bufferBytes / MIB).toFixed(0)} MiB buffer: not measured ` +
    "(an MPOL_BIND allocation beyond free memory is OOM-killed)";
}

export interface RowPlan {
  node: number;
  /** The CPU the worker pins to, or null when none is usable (the row then fails). */
  cpu: number | null;
}

export interface ProbePlan {
  rows: RowPlan[];
  cols: number[];
  bufferBytes: number;
  /** Why the plan is odd (buffer shrunk to fit free memory, ...). */
  notes: string[];
}

/**
 * A CPU of `node` this process may run on. The last one rather than the
 * first: CPU 0 of a node tends to carry more interrupts and housekeeping.
 */
export function pickCpu(node: NumaNode, allowedCpus: ReadonlySet<number> | null): number | null {
  const usable = node.cpus.filter((cpu) => allowedCpus === null || allowedCpus.has(cpu));
  return usable.length > 0 ? usable[usable.length - 1]! : null;
}

const mib = (bytes: number) => `${Number((bytes / MIB).toFixed(1))} MiB`;

/** The buffer waspd would pick from the LLC alone, and why, in words. */
export function desiredBuffer(llcBytes: number | null): { bytes: number; why: string } {
  if (llcBytes === null || llcBytes <= 0) {
    return {
      bytes: MIN_DESIRED_BUFFER_BYTES,
      why: `last-level cache size unknown (no /sys/devices/system/cpu/cpu0/cache): ${
        mib(MIN_DESIRED_BUFFER_BYTES)
      }, a safe default past any single-socket LLC of today`,
    };
  }
  const four = 4 * llcBytes;
  if (four > MAX_DESIRED_BUFFER_BYTES) {
    return {
      bytes: MAX_DESIRED_BUFFER_BYTES,
      why: `4 x the ${mib(llcBytes)} last-level cache would be ${mib(four)}: capped at ${
        mib(MAX_DESIRED_BUFFER_BYTES)
      }, past which the figure no longer changes but the cost on every node does`,
    };
  }
  if (four < MIN_DESIRED_BUFFER_BYTES) {
    return {
      bytes: MIN_DESIRED_BUFFER_BYTES,
      why: `at least ${mib(MIN_DESIRED_BUFFER_BYTES)} (4 x the ${
        mib(llcBytes)
      } last-level cache is less), so the loads miss the cache and the TLB`,
    };
  }
  return {
    bytes: four,
    why: `4 x the ${mib(llcBytes)} last-level cache, so the loads miss it`,
  };
}

/**
 * The buffer size: 4 × LLC within [64 MiB, 512 MiB] (64 MiB when the LLC is
 * unknown), or `override`, then capped at a quarter of the smallest MemFree
 * among the columns (the same size for every cell keeps cells comparable),
 * rounded down to whole TLB groups. `why` says how it was chosen.
 */
export function chooseBufferBytes(
  llcBytes: number | null,
  memFreeKbOfCols: readonly (number | null)[],
  override: number | null,
  groupBytes = DEFAULT_GROUP_BYTES,
): { bytes: number; notes: string[]; why: string } {
  const notes: string[] = [];
  const fromLlc = desiredBuffer(llcBytes);
  const desired = override ?? fromLlc.bytes;
  const why = override === null ? fromLlc.why : "set by --buffer-mb";
  let bytes = desired;
  const known = memFreeKbOfCols.filter((kb): kb is number => kb !== null && kb >= 0);
  if (known.length > 0) {
    const cap = Math.floor(Math.min(...known) * 1024 * FREE_MEMORY_SHARE);
    if (cap < bytes) {
      bytes = cap;
      notes.push(
        `buffer shrunk from ${(desired / MIB).toFixed(0)} MiB to ${
          (cap / MIB).toFixed(0)
        } MiB to fit a quarter of the smallest node's free memory`,
      );
    }
  }
  if (known.length < memFreeKbOfCols.length) {
    notes.push("free memory of some nodes is unknown: buffer not capped for them");
  }
  bytes = Math.floor(bytes / groupBytes) * groupBytes;
  if (bytes < MIN_BUFFER_BYTES && override === null) {
    notes.push(
      `buffer of ${bytes} bytes is under ${
        MIN_BUFFER_BYTES / MIB
      } MiB: figures may be cache latency`,
    );
  }
  return { bytes: Math.max(bytes, groupBytes), notes, why };
}

/** Rows are nodes with CPUs, columns nodes with memory; memory-only nodes are columns only. */
export function planProbe(
  topology: Topology,
  allowedCpus: ReadonlySet<number> | null,
  bufferOverride: number | null,
  groupBytes = DEFAULT_GROUP_BYTES,
): ProbePlan {
  const rowNodes = ptlRowNodes(topology);
  const colNodes = ptlColNodes(topology);
  const rows = rowNodes.map((n) => ({ node: n.id, cpu: pickCpu(n, allowedCpus) }));
  const { bytes, notes } = chooseBufferBytes(
    topology.llcBytes,
    colNodes.map((n) => n.memFreeKb),
    bufferOverride,
    groupBytes,
  );
  for (const n of topology.nodes) {
    if (n.memTotalKb === null) {
      notes.push(`node ${n.id}: memory size unknown, not measured as a column`);
    }
  }
  return { rows, cols: colNodes.map((n) => n.id), bufferBytes: bytes, notes };
}
