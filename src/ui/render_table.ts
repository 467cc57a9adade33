/**
 * The process table: a title line with the counts and sort key, a column
 * header, then one row per process from `scroll`. Columns drop out by
 * priority when the terminal is narrow (MUX% first), and the REASON column
 * appears when it is wide; NAME takes what is left.
 */
import type { ProcessJson, Snapshot } from "../core/snapshot.ts";
import { type Row, rowOf, type Span, span, textWidth } from "./render_frame.ts";
import { selectedStyle, statusStyle, type Theme } from "./render_theme.ts";
import { fit, formatCountdown, formatPercent, formatSi, UNKNOWN } from "./render_format.ts";
import { sanitizeName } from "./sanitize.ts";
import { SORT_LABEL, type SortKey } from "./state.ts";
import type { ReplicationStatus } from "../core/types.ts";

const STATUS_TEXT: Record<ReplicationStatus, string> = {
  idle: "idle",
  watch: "watch",
  candidate: "candidate",
  active: "ACTIVE",
  "would-enable": "would-enable",
  "pinned-on": "pinned on",
  "pinned-off": "pinned off",
  stuck: "STUCK",
  "n/a": "n/a",
};

interface Column {
  title: string;
  width: number;
  align: "left" | "right";
  /** Lower is dropped first when the row does not fit. */
  priority: number;
  cell(p: ProcessJson, t: Theme): Span;
}

function faultsPerSecond(p: ProcessJson): number | null {
  if (p.minflt_per_s === null && p.majflt_per_s === null) return null;
  return (p.minflt_per_s ?? 0) + (p.majflt_per_s ?? 0);
}

const NAME_MIN = 10;
const NAME_MAX = 24;
const REASON_MIN = 16;

const FIXED_COLUMNS: Column[] = [
  { title: "PID", width: 7, align: "right", priority: 9, cell: (p) => span(String(p.pid)) },
  { title: "MAR", width: 7, align: "right", priority: 8, cell: (p) => span(formatSi(p.mar)) },
  {
    title: "dTLB%",
    width: 6,
    align: "right",
    priority: 7,
    cell: (p) => span(formatPercent(p.dtlb_ratio, 2)),
  },
  {
    title: "MUX%",
    width: 5,
    align: "right",
    priority: 2,
    cell: (p) => span(formatPercent(p.multiplex, 0)),
  },
  {
    title: "FLT/s",
    width: 7,
    align: "right",
    priority: 3,
    cell: (p) => span(formatSi(faultsPerSecond(p))),
  },
  {
    title: "STATUS",
    width: 12,
    align: "left",
    priority: 8,
    cell: (p, t) => span(STATUS_TEXT[p.status] ?? UNKNOWN, t[statusStyle(p.status)] ?? ""),
  },
  {
    title: "T-",
    width: 5,
    align: "right",
    priority: 5,
    cell: (p) => span(formatCountdown(p.countdown_ms)),
  },
];

/** Columns in display order for a terminal `cols` wide. */
export function tableColumns(cols: number): Column[] {
  // 1 column for the selection marker, 1 space before each column.
  const widthOf = (cs: Column[]) => 1 + cs.reduce((n, c) => n + c.width + 1, 0);
  let fixed = [...FIXED_COLUMNS];
  while (widthOf(fixed) + NAME_MIN + 1 > cols && fixed.length > 0) {
    const lowest = fixed.reduce((a, b) => (b.priority < a.priority ? b : a));
    if (lowest.priority >= 8) break; // PID, MAR and STATUS always stay
    fixed = fixed.filter((c) => c !== lowest);
  }
  const spare = cols - widthOf(fixed) - 1;
  const wantsReason = spare >= NAME_MAX + 1 + REASON_MIN;
  const nameWidth = Math.max(NAME_MIN, Math.min(wantsReason ? NAME_MAX : spare, spare));
  const name: Column = {
    title: "NAME",
    width: nameWidth,
    align: "left",
    priority: 9,
    cell: (p) => span(sanitizeName(p.name, nameWidth)),
  };
  const [pid, ...rest] = fixed;
  const columns = [...(pid ? [pid] : []), name, ...rest];
  if (wantsReason) {
    columns.push({
      title: "REASON",
      width: spare - nameWidth - 1,
      align: "left",
      priority: 1,
      cell: (p, t) => span(sanitizeName(p.reason, spare - nameWidth - 1), t.dim),
    });
  }
  return columns;
}

function headerRow(columns: Column[], t: Theme, cols: number): Row {
  const text = " " + columns.map((c) => " " + fit(c.title, c.width, c.align)).join("");
  return rowOf([span(fit(text, cols), t.tableHeader)], cols);
}

function processRow(p: ProcessJson, selected: boolean, columns: Column[], t: Theme, cols: number) {
  const style = (base: string) => (selected ? selectedStyle(t, base) : base);
  const spans: Span[] = [span(selected ? ">" : " ", style(""))];
  for (const c of columns) {
    const cell = c.cell(p, t);
    spans.push(span(" ", style("")), span(fit(cell.text, c.width, c.align), style(cell.style)));
  }
  const used = spans.reduce((n, s) => n + textWidth(s.text), 0);
  if (used < cols) spans.push(span(" ".repeat(cols - used), style("")));
  return rowOf(spans, cols);
}

export interface TableView {
  /** Processes in display order. */
  processes: readonly ProcessJson[];
  selectedIndex: number;
  scroll: number;
  sort: SortKey;
}

function titleRow(s: Snapshot, view: TableView, bodyRows: number, t: Theme, cols: number): Row {
  const total = view.processes.length;
  const tracked = s.daemon?.tracked ?? total;
  const replicated = s.daemon?.replicated ??
    view.processes.filter((p) => p.replicated === true).length;
  const first = total === 0 ? 0 : view.scroll + 1;
  const last = Math.min(total, view.scroll + bodyRows);
  return rowOf([
    span("Processes: ", t.label),
    span(`${replicated} replicated`, replicated > 0 ? t.ok : ""),
    span(`, ${tracked} tracked`),
    span(`   sort: ${SORT_LABEL[view.sort]} (s)`),
    span(`   ${first}-${last} of ${total}`, t.dim),
  ], cols);
}

/** Title, column header and exactly `bodyRows` body rows (blank when short). */
export function renderTable(
  s: Snapshot,
  view: TableView,
  bodyRows: number,
  t: Theme,
  cols: number,
): Row[] {
  const columns = tableColumns(cols);
  const rows = [titleRow(s, view, bodyRows, t, cols), headerRow(columns, t, cols)];
  for (let i = 0; i < bodyRows; i++) {
    const index = view.scroll + i;
    const p = view.processes[index];
    rows.push(
      p ? processRow(p, index === view.selectedIndex, columns, t, cols) : rowOf(
        i === 0 && view.processes.length === 0 ? [span("  no processes", t.dim)] : [],
        cols,
      ),
    );
  }
  return rows;
}
