/**
 * The axes of the PTL matrix, the one definition every measurer and the
 * daemon share: rows are the nodes with CPUs (where a page walk starts),
 * columns the nodes with memory (where the page tables can sit). A node
 * whose memory size is unknown is no column: nothing could be placed there.
 */
import type { NumaNode, Topology } from "./types.ts";

/** The matrix's rows: nodes with CPUs, in the topology's order. */
export function ptlRowNodes(topology: Topology): NumaNode[] {
  return topology.nodes.filter((n) => n.cpus.length > 0);
}

/** The matrix's columns: nodes with memory, in the topology's order. */
export function ptlColNodes(topology: Topology): NumaNode[] {
  return topology.nodes.filter((n) => (n.memTotalKb ?? 0) > 0);
}
