/**
 * The PTL latency matrix (CPU node rows x memory node columns, ns) and the
 * steering line. Cells are coloured by tier; a failed cell reads "err" and
 * a missing one "-", never a number.
 */
import type { NodeJson, PtlJson, PtlMethodJson, Snapshot, SteeringJson } from "../core/snapshot.ts";
import { type Row, rowOf, type Span, span } from "./render_frame.ts";
import type { Theme } from "./render_theme.ts";
import { fit, formatDuration, UNKNOWN } from "./render_format.ts";

export type Tier = "local" | "near" | "far";

const CELL_WIDTH = 7;
const ROW_LABEL_WIDTH = 10;

/**
 * Tier of (cpu node, memory node). From the SLIT when it is usable: local
 * on the diagonal, near at the smallest remote distance of the machine, far
 * beyond. Without a usable SLIT, from latencies: within 1.5x the row's
 * local latency is near. Null when neither says.
 */
export function tierOf(
  row: number,
  col: number,
  nodes: readonly NodeJson[],
  ptl: PtlJson | null,
): Tier | null {
  if (row === col) return "local";
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const rowNode = nodes.find((n) => n.id === row);
  const colIndex = index.get(col);
  const distance = colIndex === undefined ? undefined : rowNode?.distances[colIndex];
  const remote = nodes.flatMap((n) =>
    n.distances.filter((d, i) => i !== index.get(n.id) && Number.isFinite(d) && d > 0)
  );
  if (distance !== undefined && distance > 0 && remote.length > 0) {
    return distance <= Math.min(...remote) ? "near" : "far";
  }
  if (!ptl) return null;
  const r = ptl.rows.indexOf(row);
  const here = ptl.latency_ns[r]?.[ptl.cols.indexOf(row)];
  const there = ptl.latency_ns[r]?.[ptl.cols.indexOf(col)];
  if (here == null || there == null || here <= 0) return null;
  return there <= here * 1.5 ? "near" : "far";
}

/**
 * What the title line says of how the figures were taken: loudly when they
 * are not memory latency, as a notice when the budget slows the refresh,
 * else just the method. Null before the first measurement.
 */
export function ptlMethodNote(
  m: PtlMethodJson | null,
): { text: string; tone: "bad" | "notice" | "dim" } | null {
  if (m === null) return null;
  if (!m.dram) return { text: `NOT memory latency: ${m.note ?? "unknown why"}`, tone: "bad" };
  if (m.method !== "full" && m.slowed && m.matrix_every_ms !== null) {
    return {
      text: `${m.method}, budget ${m.budget_cpu_pct}% CPU: matrix every ${
        formatDuration(m.matrix_every_ms)
      }`,
      tone: "notice",
    };
  }
  return { text: m.method, tone: "dim" };
}

function titleLine(s: Snapshot, t: Theme, cols: number, folded: boolean): Row {
  const spans: Span[] = [span("PTL latency (ns)", t.label)];
  const ptl = s.ptl;
  if (ptl) {
    spans.push(
      span(`  took ${formatDuration(ptl.duration_ms)}, ${formatDuration(ptl.age_ms)} ago`),
    );
    if (folded) spans.push(span("  [matrix hidden]", t.dim));
  } else spans.push(span("  not measured yet", t.dim));
  const note = ptlMethodNote(s.daemon?.ptl_method ?? null);
  if (note !== null) spans.push(span(`  [${note.text}]`, t[note.tone]));
  if (s.daemon?.ptl_measuring) spans.push(span("  measuring...", t.notice));
  if (s.daemon?.ptl_error) spans.push(span(`  error: ${s.daemon.ptl_error}`, t.bad));
  return rowOf(spans, cols);
}

function matrixRows(s: Snapshot, ptl: PtlJson, t: Theme, cols: number): Row[] {
  const header = rowOf([
    span(fit("cpu\\mem", ROW_LABEL_WIDTH), t.dim),
    ...ptl.cols.map((c) => span(fit(String(c), CELL_WIDTH, "right"), t.label)),
  ], cols);
  const body = ptl.rows.map((r, ri) =>
    rowOf([
      span(fit(`node ${r}`, ROW_LABEL_WIDTH), t.label),
      ...ptl.cols.map((c, ci) => {
        const ns = ptl.latency_ns[ri]?.[ci] ?? null;
        const failed = (ptl.errors[ri]?.[ci] ?? null) !== null;
        if (ns === null) {
          return span(fit(failed ? "err" : UNKNOWN, CELL_WIDTH, "right"), failed ? t.bad : t.dim);
        }
        const tier = tierOf(r, c, s.host.nodes, ptl);
        return span(fit(Math.round(ns).toString(), CELL_WIDTH, "right"), tier ? t[tier] : "");
      }),
    ], cols)
  );
  return [header, ...body];
}

/** `0->0 1->1 2->3*`: a "*" marks a remote replica, colour or not. */
export function steeringSpans(steering: SteeringJson | null, t: Theme): Span[] {
  if (!steering || steering.choices.length === 0) return [span(UNKNOWN, t.dim)];
  return steering.choices.flatMap((c, i) => [
    ...(i > 0 ? [span(" ")] : []),
    c.remote ? span(`${c.node}->${c.replica}*`, t.remote) : span(`${c.node}->${c.replica}`),
  ]);
}

function steeringLine(s: Snapshot, t: Theme, cols: number): Row {
  const remote = s.steering?.choices.some((c) => c.remote) ?? false;
  return rowOf([
    span("steering: ", t.label),
    ...steeringSpans(s.steering, t),
    ...(remote ? [span("   (* = remote replica)", t.dim)] : []),
  ], cols);
}

/** Rows of the matrix body: what may be dropped when the terminal is short. */
export function matrixHeight(s: Snapshot): number {
  return s.ptl ? 1 + s.ptl.rows.length : 0;
}

export function renderPtl(s: Snapshot, t: Theme, cols: number, withMatrix: boolean): Row[] {
  const rows = [titleLine(s, t, cols, !withMatrix)];
  if (withMatrix && s.ptl) rows.push(...matrixRows(s, s.ptl, t, cols));
  rows.push(steeringLine(s, t, cols));
  return rows;
}
