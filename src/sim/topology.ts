/**
 * The simulated machine's shape: N NUMA nodes grouped two per socket, so the
 * SLIT is not flat (10 local, 16 to the sibling node on the same socket, 32
 * across sockets) and the steering and probe code meet a real hierarchy. Pure:
 * the same inputs give the same Topology.
 */
import type { CpuIdentity, NumaNode, Topology } from "../core/types.ts";

export const SIM_MAX_NODES = 64;
export const NODES_PER_SOCKET = 2;
export const SIM_CPUS_PER_NODE = 4;
export const SIM_NODE_MEM_KB = 16 * 1024 * 1024; // 16 GiB per node
export const SIM_LLC_BYTES = 32 * 1024 * 1024;

export const SLIT_LOCAL = 10;
export const SLIT_SAME_SOCKET = 16;
export const SLIT_OTHER_SOCKET = 32;

/** A real vendor string so vendor-keyed code paths run; the model name says it is simulated. */
export const SIM_CPU: CpuIdentity = {
  vendor: "GenuineIntel",
  family: 6,
  model: 106,
  modelName: "Simulated NUMA machine (waspd --sim)",
  mhz: 2400,
};

export function assertNodeCount(nodes: number): void {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > SIM_MAX_NODES) {
    throw new RangeError(
      `simulated node count must be a whole number 1..${SIM_MAX_NODES}, got ${nodes}`,
    );
  }
}

export function socketOf(node: number): number {
  return Math.floor(node / NODES_PER_SOCKET);
}

/** SLIT distance between two nodes: symmetric, 10 on the diagonal. */
export function slitDistance(from: number, to: number): number {
  if (from === to) return SLIT_LOCAL;
  return socketOf(from) === socketOf(to) ? SLIT_SAME_SOCKET : SLIT_OTHER_SOCKET;
}

export function slitMatrix(nodes: number): number[][] {
  assertNodeCount(nodes);
  return Array.from(
    { length: nodes },
    (_, i) => Array.from({ length: nodes }, (_, j) => slitDistance(i, j)),
  );
}

/**
 * The Topology at one instant. `memFreeKb[i]` is node i's free memory (the
 * host computes it from the workloads); missing entries are unknown (null).
 * The nodes in `memoryOnly` have no CPUs (a CXL expander, QEMU's `-numa node`
 * without CPUs): memory the probe can read, where no CPU runs.
 */
export function simTopology(
  nodes: number,
  memFreeKb: readonly number[] = [],
  memoryOnly: readonly number[] = [],
): Topology {
  const distances = slitMatrix(nodes);
  const nodeList: NumaNode[] = distances.map((row, id) => ({
    id,
    cpus: memoryOnly.includes(id)
      ? []
      : Array.from({ length: SIM_CPUS_PER_NODE }, (_, k) => id * SIM_CPUS_PER_NODE + k),
    memTotalKb: SIM_NODE_MEM_KB,
    memFreeKb: memFreeKb[id] ?? null,
    distances: row,
  }));
  return {
    nodes: nodeList,
    llcBytes: SIM_LLC_BYTES,
    cpu: { ...SIM_CPU },
    // The 6.4.0 kernel's cache oopses under 5-level paging: the simulated one runs 4-level.
    fiveLevelPaging: { cpuFlag: false, disabledOnCmdline: false, active: false },
    warnings: [],
  };
}
