/**
 * The page-table-lookup latency probe on the simulated machine. Latency
 * follows the SLIT (distance/10 × a local base), with seeded per-round noise,
 * and one congested node whose memory is slow for everyone: its own CPUs are
 * then better served by their socket sibling's replica, so steering has a real
 * choice to make (the row of the congested node has a remote minimum).
 * A measurement takes simulated time, like the real pinned chase does.
 */
import { chooseBufferBytes } from "../../probe/plan.ts";
import type { CellFigure, PtlCell, PtlMeasurement, Topology } from "../core/types.ts";
import type {
  Clock,
  ProbeOptions,
  Prober,
  PtlRefresher,
  RefreshOptions,
  RefreshResult,
} from "../host.ts";
import type { SeededRng } from "./rng.ts";
import { median } from "../core/stats.ts";
import { ptlColNodes, ptlRowNodes } from "../core/ptl_axes.ts";

/** Local page-walk load latency of the simulated machine, ns. */
export const BASE_LOCAL_NS = 90;
/** Memory of the congested node answers this many times slower. */
export const CONGESTION_FACTOR = 2.2;
const NOISE_AMPLITUDE = 0.03;
const DEFAULT_ROUNDS = 5;
/** Simulated time one round of one cell takes (rows run in parallel, one worker per node). */
const CELL_ROUND_MS = 40;
/** Simulated CPU cost of a light refresh of one cell (what the real flush ring costs, about). */
export const SIM_REFRESH_CELL_MS = 0.4;
/** Rounds of one light refresh of a cell. */
const REFRESH_ROUNDS = 8;

/**
 * A node whose socket sibling exists (so a cheaper remote replica can exist),
 * chosen by the seed; null on a machine with no such node (1 node).
 */
export function pickCongestedNode(nodes: number, rng: SeededRng): number | null {
  const withSibling = Array.from({ length: nodes }, (_, i) => i).filter((i) => (i ^ 1) < nodes);
  if (withSibling.length === 0) return null;
  return withSibling[rng.int(withSibling.length)] ?? null;
}

export class SimProber implements Prober, PtlRefresher {
  /** The node whose memory is contended now; tests move it (null: none). */
  congestedNode: number | null;
  readonly #clock: Clock;
  readonly #rng: SeededRng;

  constructor(clock: Clock, nodes: number, rng: SeededRng) {
    this.#clock = clock;
    this.congestedNode = pickCongestedNode(nodes, rng.fork("congestion"));
    this.#rng = rng.fork("probe-noise");
  }

  /** The model's noiseless latency for a CPU on `row` reading memory on `col`. */
  expectedNs(distance: number, col: number): number {
    const congestion = col === this.congestedNode ? CONGESTION_FACTOR : 1;
    return BASE_LOCAL_NS * (distance / 10) * congestion;
  }

  /** Contention starts on `node` (or ends, with null): its memory answers CONGESTION_FACTOR slower. */
  setCongested(node: number | null): void {
    this.congestedNode = node;
  }

  /** The light refresh of chosen cells: the same model, a simulated cost per cell. */
  async refresh(
    topology: Topology,
    cells: readonly PtlCell[],
    options: RefreshOptions,
  ): Promise<RefreshResult> {
    const figures: CellFigure[] = cells.map((cell) => {
      const row = topology.nodes.find((n) => n.id === cell.row);
      const colIndex = topology.nodes.findIndex((n) => n.id === cell.col);
      const distance = colIndex < 0 ? undefined : row?.distances[colIndex];
      if (distance === undefined) {
        return { ...cell, latencyNs: null, spread: null, error: "no SLIT distance" };
      }
      const expected = this.expectedNs(distance, cell.col);
      const samples = Array.from(
        { length: REFRESH_ROUNDS },
        () => expected * this.#rng.jitter(NOISE_AMPLITUDE),
      );
      const middle = median(samples);
      const spread = (Math.max(...samples) - Math.min(...samples)) / middle;
      return { ...cell, latencyNs: middle, spread, error: null };
    });
    await this.#clock.sleep(Math.ceil(cells.length * SIM_REFRESH_CELL_MS), options.signal);
    return {
      figures,
      costMs: cells.length * SIM_REFRESH_CELL_MS,
      setupMs: 0,
      method: { method: "sim", dram: true, note: "simulated machine", bufferBytes: 4 << 20 },
    };
  }

  close(): void {}

  async measure(topology: Topology, options: ProbeOptions = {}): Promise<PtlMeasurement> {
    const startedAtMs = this.#clock.wallNow();
    const startMs = this.#clock.now();
    const rounds = Math.max(1, Math.floor(options.rounds ?? DEFAULT_ROUNDS));
    const rowNodes = ptlRowNodes(topology);
    const colNodes = ptlColNodes(topology);
    const colIndex = (id: number) => topology.nodes.findIndex((n) => n.id === id);
    // The real prober's rule, so `waspd --sim probe` explains the same choice.
    const bufferBytes = chooseBufferBytes(
      topology.llcBytes,
      colNodes.map((n) => n.memFreeKb),
      options.bufferBytes ?? null,
    ).bytes;

    const latencyNs: (number | null)[][] = [];
    const spread: (number | null)[][] = [];
    const errors: (string | null)[][] = [];
    for (const row of rowNodes) {
      const latencyRow: (number | null)[] = [];
      const spreadRow: (number | null)[] = [];
      const errorRow: (string | null)[] = [];
      for (const col of colNodes) {
        const distance = row.distances[colIndex(col.id)];
        if (distance === undefined) {
          latencyRow.push(null);
          spreadRow.push(null);
          errorRow.push(`no SLIT distance from node ${row.id} to node ${col.id}`);
          continue;
        }
        const expected = this.expectedNs(distance, col.id);
        const samples = Array.from(
          { length: rounds },
          () => expected * this.#rng.jitter(NOISE_AMPLITUDE),
        );
        const middle = median(samples);
        latencyRow.push(middle);
        // One round gives no spread: unknown, as the real probe reports it.
        spreadRow.push(
          rounds < 2 ? null : (Math.max(...samples) - Math.min(...samples)) / middle,
        );
        errorRow.push(null);
      }
      latencyNs.push(latencyRow);
      spread.push(spreadRow);
      errors.push(errorRow);
    }

    await this.#clock.sleep(colNodes.length * rounds * CELL_ROUND_MS, options.signal);
    if (options.signal?.aborted) {
      const failed = rowNodes.map(() => colNodes.map(() => null));
      return {
        startedAtMs,
        durationMs: this.#clock.now() - startMs,
        rows: rowNodes.map((n) => n.id),
        cols: colNodes.map((n) => n.id),
        latencyNs: failed,
        spread: failed.map((r) => [...r]),
        errors: rowNodes.map(() => colNodes.map(() => "aborted")),
        bufferBytes,
      };
    }
    return {
      startedAtMs,
      durationMs: this.#clock.now() - startMs,
      rows: rowNodes.map((n) => n.id),
      cols: colNodes.map((n) => n.id),
      latencyNs,
      spread,
      errors,
      bufferBytes,
    };
  }
}
