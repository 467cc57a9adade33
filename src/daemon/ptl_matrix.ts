/**
 * The PTL matrix as the daemon keeps it (pure): which cells a topology has,
 * and a matrix updated cell by cell as budgeted refreshes come in. A cell not
 * measured yet is a failed cell ("not measured yet"), never a figure.
 */
import type { CellFigure, PtlCell, PtlMeasurement, Topology } from "../core/types.ts";
import { ptlColNodes, ptlRowNodes } from "../core/ptl_axes.ts";

/** Every cell: rows are nodes with CPUs, columns nodes with memory (as the full chase). */
export function cellsOf(topology: Topology): PtlCell[] {
  const rows = ptlRowNodes(topology).map((n) => n.id);
  const cols = ptlColNodes(topology).map((n) => n.id);
  return rows.flatMap((row) => cols.map((col) => ({ row, col })));
}

const NOT_YET = "not measured yet";

function sameAxes(m: PtlMeasurement, rows: readonly number[], cols: readonly number[]): boolean {
  return m.rows.length === rows.length && m.cols.length === cols.length &&
    m.rows.every((r, i) => r === rows[i]) && m.cols.every((c, i) => c === cols[i]);
}

/**
 * `previous` with the refreshed cells replaced. A previous matrix over other
 * rows or columns (a node went away or came) is dropped: its cells would sit
 * at the wrong places. Timing fields describe the refresh just done.
 */
export function mergeFigures(
  previous: PtlMeasurement | null,
  cells: readonly PtlCell[],
  figures: readonly CellFigure[],
  refresh: { startedAtMs: number; durationMs: number; bufferBytes: number },
): PtlMeasurement {
  const rows = [...new Set(cells.map((c) => c.row))];
  const cols = [...new Set(cells.map((c) => c.col))];
  const keep = previous !== null && sameAxes(previous, rows, cols) ? previous : null;
  const grid = <T>(pick: (r: number, c: number) => T) =>
    rows.map((_, r) => cols.map((_, c) => pick(r, c)));
  const latencyNs = grid((r, c) => keep?.latencyNs[r]?.[c] ?? null);
  const spread = grid((r, c) => keep?.spread[r]?.[c] ?? null);
  const errors = grid((r, c) => keep === null ? NOT_YET : keep.errors[r]?.[c] ?? null);
  for (const f of figures) {
    const r = rows.indexOf(f.row);
    const c = cols.indexOf(f.col);
    if (r < 0 || c < 0) continue;
    latencyNs[r]![c] = f.error === null ? f.latencyNs : null;
    spread[r]![c] = f.error === null ? f.spread : null;
    errors[r]![c] = f.error;
  }
  return { ...refresh, rows, cols, latencyNs, spread, errors };
}
