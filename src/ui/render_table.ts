/**
 * The process table: a title line with the counts and sort key, a column
 * header, then one row per process from `scroll`. Columns drop out by
 * priority when the terminal is narrow (MUX% first); REASON is the last to
 * go: shortened at 80 columns, under the selected row below that. NAME takes
 * what is left.
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

/** KiB in at most 5 columns: "950K", "12M", "4.0G". */
export function formatKbShort(kb: number | null): string {
  if (kb === null || !Number.isFinite(kb)) return UNKNOWN;
  const units: [number, string][] = [[1024 ** 3, "T"], [1024 ** 2, "G"], [1024, "M"]];
  for (const [scale, unit] of units) {
    if (kb >= scale) {
      const v = kb / scale;
      return `${v >= 10 ? Math.round(v) : v.toFixed(1)}${unit}`;
    }
  }
  return `${Math.round(kb)}K`;
}

const NAME_MIN = 10;
const NAME_MAX = 24;
/** REASON shortened to this still says why; it stays down to 80 columns. */
const REASON_MIN = 16;
/** At this width and wider REASON is a column; narrower, a line under the selected row. */
export const REASON_COLUMN_COLS = 80;

/**
 * The columns with what each says, for the help box. Priorities: PID, MAR
 * and STATUS always stay; REASON (placed apart) goes only below 80 columns.
 */
const FIXED_COLUMNS: (Column & { help: string })[] = [
  {
    title: "PID",
    width: 7,
    align: "right",
    priority: 9,
    help: "process id",
    cell: (p) => span(String(p.pid)),
  },
  {
    title: "MAR",
    width: 7,
    align: "right",
    priority: 8,
    help: "memory access rate, loads/s over the last tick",
    cell: (p) => span(formatSi(p.mar)),
  },
  {
    title: "dTLB%",
    width: 6,
    align: "right",
    priority: 7,
    help: "page walks per load (dTLB misses), in %",
    cell: (p) => span(formatPercent(p.dtlb_ratio, 2)),
  },
  {
    title: "RSS",
    width: 5,
    align: "right",
    priority: 6,
    help: "resident memory (K/M/G = KiB/MiB/GiB)",
    cell: (p) => span(formatKbShort(p.rss_kb)),
  },
  {
    title: "THR",
    width: 4,
    align: "right",
    priority: 3,
    help: "threads",
    cell: (p) => span(String(p.threads)),
  },
  {
    title: "PTE",
    width: 5,
    align: "right",
    priority: 4,
    help: "page-table size (VmPTE): what one replica copies",
    cell: (p) => span(formatKbShort(p.pte_kb)),
  },
  {
    title: "MUX%",
    width: 5,
    align: "right",
    priority: 1,
    help: "share of time the counters ran (multiplexing); low = estimated",
    cell: (p) => span(formatPercent(p.multiplex, 0)),
  },
  {
    title: "FLT/s",
    width: 6,
    align: "right",
    priority: 2,
    help: "page faults per second, minor + major",
    cell: (p) => span(formatSi(faultsPerSecond(p))),
  },
  {
    title: "STATUS",
    width: 12,
    align: "left",
    priority: 8,
    help: "idle, watch, candidate, ACTIVE, would-enable, pinned, STUCK, n/a",
    cell: (p, t) => span(STATUS_TEXT[p.status] ?? UNKNOWN, t[statusStyle(p.status)] ?? ""),
  },
  {
    title: "FLIP",
    width: 5,
    align: "right",
    priority: 5,
    help: "time left before the hysteresis flips the decision",
    cell: (p) => span(formatCountdown(p.countdown_ms)),
  },
];

/** Every column title and what it shows, in table order: the help box's second page. */
export const COLUMN_HELP: readonly (readonly [string, string])[] = [
  ["PID", "process id"],
  ["NAME", "command name (comm); > marks the selected row"],
  ...FIXED_COLUMNS.slice(1).map((c) => [c.title, c.help] as const),
  ["REASON", "why the policy decided so (below 80 columns: under the selected row)"],
];

/** Columns in display order for a terminal `cols` wide. */
export function tableColumns(cols: number): Column[] {
  // 1 column for the selection marker, 1 space before each column.
  const widthOf = (cs: Column[]) => 1 + cs.reduce((n, c) => n + c.width + 1, 0);
  const reasonColumn = cols >= REASON_COLUMN_COLS;
  const reserved = NAME_MIN + 1 + (reasonColumn ? REASON_MIN + 1 : 0);
  let fixed: Column[] = [...FIXED_COLUMNS];
  while (widthOf(fixed) + reserved > cols && fixed.length > 0) {
    const lowest = fixed.reduce((a, b) => (b.priority < a.priority ? b : a));
    if (lowest.priority >= 8) break; // PID, MAR and STATUS always stay
    fixed = fixed.filter((c) => c !== lowest);
  }
  const spare = cols - widthOf(fixed) - 1;
  const reasonRoom = reasonColumn ? spare - NAME_MIN - 1 : 0;
  // NAME grows to NAME_MAX before REASON grows past its minimum.
  const nameWidth = reasonColumn
    ? Math.max(NAME_MIN, Math.min(NAME_MAX, spare - REASON_MIN - 1))
    : Math.max(NAME_MIN, spare);
  const name: Column = {
    title: "NAME",
    width: nameWidth,
    align: "left",
    priority: 9,
    cell: (p) => span(sanitizeName(p.name, nameWidth)),
  };
  const [pid, ...rest] = fixed;
  const columns = [...(pid ? [pid] : []), name, ...rest];
  if (reasonColumn && reasonRoom >= REASON_MIN) {
    const width = spare - nameWidth - 1;
    columns.push({
      title: "REASON",
      width,
      align: "left",
      priority: 1,
      cell: (p, t) => span(sanitizeName(p.reason, width), t.dim),
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
  sortReversed: boolean;
  /** The filter in force ("" = none): named when it lets nothing through. */
  filter: string;
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
    span(`   sort: ${SORT_LABEL[view.sort]}${view.sortReversed ? " reversed" : ""} (s, i)`),
    span(`   ${first}-${last} of ${total}`, t.dim),
  ], cols);
}

/** The selected row's reason on a line of its own, when there is no REASON column. */
function reasonRow(p: ProcessJson, t: Theme, cols: number): Row {
  return rowOf([span("   why: ", t.label), span(sanitizeName(p.reason, cols - 8), t.dim)], cols);
}

/** Whether the table at this width puts the reason under the selected row. */
export function reasonBelow(cols: number): boolean {
  return !tableColumns(cols).some((c) => c.title === "REASON");
}

/**
 * Title, column header and exactly `bodyRows` body rows (blank when short).
 * Without a REASON column, the selected row's reason takes the row under
 * it (one process row fewer: the layout's page is one row shorter).
 */
export function renderTable(
  s: Snapshot,
  view: TableView,
  bodyRows: number,
  t: Theme,
  cols: number,
): Row[] {
  const columns = tableColumns(cols);
  const below = !columns.some((c) => c.title === "REASON");
  const rows = [titleRow(s, view, bodyRows, t, cols), headerRow(columns, t, cols)];
  for (let i = 0; rows.length < bodyRows + 2; i++) {
    const index = view.scroll + i;
    const p = view.processes[index];
    if (!p) {
      const empty = i === 0 && view.processes.length === 0;
      const what = view.filter === "" ? "  no processes" : `  no process matches "${view.filter}"`;
      rows.push(rowOf(empty ? [span(sanitizeName(what, cols), t.dim)] : [], cols));
      continue;
    }
    const selected = index === view.selectedIndex;
    rows.push(processRow(p, selected, columns, t, cols));
    if (selected && below && rows.length < bodyRows + 2) rows.push(reasonRow(p, t, cols));
  }
  return rows;
}
