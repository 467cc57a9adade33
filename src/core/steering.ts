/**
 * Steering from a PTL latency matrix (pure): for each node with CPUs, which
 * node's page-table replica its CPUs should walk. Local by default; a remote
 * replica wins only when it is faster by more than the measured noise, so two
 * measurements that differ by noise never flip steering back and forth. Only
 * a node the replication mask names holds a replica (core/replication_mask.ts:
 * the nodes with CPUs, i.e. the matrix's rows), so a memory-only column,
 * however fast, is never chosen: the kernel would refuse it (EINVAL).
 */
import { type PtlMeasurement, type Steering, STEERING_SLOTS } from "./types.ts";
import { replicaNodes } from "./replication_mask.ts";

interface Candidate {
  node: number;
  latencyNs: number;
  /** Relative spread, or null when the measurement gave none. */
  spread: number | null;
}

/** The usable cells of one row: a replica's node, a latency, no error. */
function candidatesOfRow(
  m: PtlMeasurement,
  rowIndex: number,
  replicas: ReadonlySet<number>,
): Candidate[] {
  const out: Candidate[] = [];
  m.cols.forEach((node, c) => {
    if (!replicas.has(node)) return;
    const latencyNs = m.latencyNs[rowIndex]?.[c] ?? null;
    const error = m.errors[rowIndex]?.[c] ?? null;
    if (latencyNs === null || error !== null || !Number.isFinite(latencyNs) || latencyNs <= 0) {
      return;
    }
    out.push({ node, latencyNs, spread: m.spread[rowIndex]?.[c] ?? null });
  });
  return out;
}

/** Lowest latency first; equal latencies by node id so the choice is deterministic. */
function fastest(candidates: readonly Candidate[]): Candidate | null {
  let best: Candidate | null = null;
  for (const c of candidates) {
    if (
      best === null || c.latencyNs < best.latencyNs ||
      (c.latencyNs === best.latencyNs && c.node < best.node)
    ) best = c;
  }
  return best;
}

/**
 * The noise band, in ns, between two cells: each cell's spread applied to its
 * own latency, added, so a remote wins only when the two ranges of round
 * figures cannot overlap. (The larger of the two alone let a 4-node QEMU
 * guest, which models no NUMA latency at all, flip steering on noise.) An
 * unknown spread is unbounded noise: the remote can then never prove itself.
 */
function noiseNs(a: Candidate, b: Candidate): number {
  if (a.spread === null || b.spread === null) return Number.POSITIVE_INFINITY;
  return a.spread * a.latencyNs + b.spread * b.latencyNs;
}

export function computeSteering(m: PtlMeasurement): Steering {
  const replicas = new Set(replicaNodes(m.rows));
  const choices = m.rows.map((node, r) => {
    const candidates = candidatesOfRow(m, r, replicas);
    const local = candidates.find((c) => c.node === node) ?? null;
    const best = fastest(candidates);
    if (best === null) return { node, replica: node, remote: false };
    // A CPU-only node (or one whose local cell failed) has no local replica
    // to defend: the fastest usable node wins outright.
    if (local === null) return { node, replica: best.node, remote: best.node !== node };
    if (best.node !== node && local.latencyNs - best.latencyNs > noiseNs(local, best)) {
      return { node, replica: best.node, remote: true };
    }
    return { node, replica: node, remote: false };
  });
  return { choices };
}

/**
 * What prctl 104 takes: STEERING_SLOTS entries, entry i = the replica node
 * for CPUs of node i, -1 = local (also for nodes beyond the online ones, and
 * for a CPU-only node with no usable cell). Nodes with ids beyond the slots
 * cannot be steered by the kernel and are left out.
 */
export function steeringArray(s: Steering): number[] {
  const array = new Array<number>(STEERING_SLOTS).fill(-1);
  for (const choice of s.choices) {
    if (choice.node >= 0 && choice.node < STEERING_SLOTS && choice.remote) {
      array[choice.node] = choice.replica;
    }
  }
  return array;
}
