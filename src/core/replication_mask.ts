/**
 * The node mask waspd gives prctl(100) to turn replication on: the nodes with
 * CPUs. A replica on a node no CPU runs on (a memory-only node: a CXL
 * expander, QEMU's `-numa node` without CPUs) is never walked, only kept in
 * step with every page-table write: cost and no gain. Pure.
 *
 * Kernel facts (6.4, the PR_SET_PGTABLE_REPL handler; docs/kernel-interface.md):
 * arg2 = 1 means every online node, so bit 0 alone (node 0 only) cannot be
 * said; an explicit mask must name at least 2 nodes, each online, else
 * EINVAL; only bits 0..NUMA_NODE_COUNT-1 (8 in 6.4) are read, a higher bit
 * is silently ignored. So the mask names only nodes below that limit, and a
 * machine with fewer than 2 such nodes with CPUs gets no replication at all:
 * there is nothing for a replica to be nearer to.
 */
import { STEERING_SLOTS, type Topology } from "./types.ts";

/** Bits an explicit mask may use: NUMA_NODE_COUNT, the size of the steering array too. */
export const MASK_NODE_LIMIT = STEERING_SLOTS;

export type ReplicationMask =
  | {
    ok: true;
    /** prctl(100) arg2: bit i = node i; always >= 2 bits, so never the 1 of "all online nodes". */
    mask: number;
    /** The nodes it names, ascending. */
    nodes: number[];
    /** Online nodes left out because they have no CPUs, ascending. */
    memoryOnly: number[];
    /** Nodes with CPUs left out because a mask cannot name them (MASK_NODE_LIMIT and up). */
    beyondMask: number[];
  }
  | { ok: false; reason: string };

/** The nodes of `withCpus` a mask can name (below MASK_NODE_LIMIT), ascending, once each. */
export function replicaNodes(withCpus: readonly number[]): number[] {
  const nodes = withCpus.filter((n) => Number.isInteger(n) && n >= 0 && n < MASK_NODE_LIMIT);
  return [...new Set(nodes)].sort((a, b) => a - b);
}

/**
 * The bitmask of `nodes` (bit i = node i), for showing the kernel's node
 * list as a mask; null when a node cannot be a bit of a JSON number (id 53
 * and up, or not a node id at all).
 */
export function maskOfNodes(nodes: readonly number[]): number | null {
  const ids = new Set(nodes);
  if ([...ids].some((n) => !Number.isInteger(n) || n < 0 || n > 52)) return null;
  return [...ids].reduce((mask, n) => mask + 2 ** n, 0);
}

/** The mask for this machine, or why replication is refused on it. */
export function replicationMask(topology: Topology): ReplicationMask {
  const online = topology.nodes.map((n) => n.id);
  const withCpus = topology.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id);
  const nodes = replicaNodes(withCpus);
  const memoryOnly = online.filter((id) => !withCpus.includes(id)).sort((a, b) => a - b);
  const beyond = withCpus.filter((id) => !nodes.includes(id)).sort((a, b) => a - b);
  if (nodes.length >= 2) {
    const mask = nodes.reduce((bits, n) => bits | (1 << n), 0);
    return { ok: true, mask, nodes, memoryOnly, beyondMask: beyond };
  }
  const found = [
    nodes.length === 0 ? "no node with CPUs" : `only node ${nodes[0]} has CPUs`,
    ...(memoryOnly.length === 0 ? [] : [`memory-only: ${nodeList(memoryOnly)}`]),
    ...(beyond.length === 0 ? [] : [
      `${nodeList(beyond)} beyond the kernel's ${MASK_NODE_LIMIT}-node mask`,
    ]),
  ];
  return {
    ok: false,
    reason: `replication needs 2 or more nodes with CPUs (${found.join("; ")}): ` +
      "a replica where no CPU runs is never walked",
  };
}

/** For events and the startup line: `mask 0x7 (nodes 0, 1, 2; node 3 left out: no CPUs)`. */
export function describeMask(m: Extract<ReplicationMask, { ok: true }>): string {
  const left = [
    ...(m.memoryOnly.length === 0 ? [] : [`${nodeList(m.memoryOnly)} left out: no CPUs`]),
    ...(m.beyondMask.length === 0 ? [] : [
      `${nodeList(m.beyondMask)} left out: beyond the kernel's ${MASK_NODE_LIMIT}-node mask`,
    ]),
  ];
  return `mask 0x${m.mask.toString(16)} (${[nodeList(m.nodes), ...left].join("; ")})`;
}

function nodeList(ids: readonly number[]): string {
  return `${ids.length === 1 ? "node" : "nodes"} ${ids.join(", ")}`;
}
