/**
 * The frame as a pure function of (snapshot, UI state, terminal size,
 * colour): no clock, no terminal, no daemon. The layout from top to bottom:
 * header, PTL matrix and steering, process table, events, key line. The
 * table gets what the fixed parts leave; on a short terminal the events
 * shrink first, then the matrix body is folded away. The detail view (Enter)
 * and the node view (n) take the place of the matrix and the table.
 */
import type { ProcessJson, Snapshot } from "../core/snapshot.ts";
import { blankRow, type Frame, type Size } from "./render_frame.ts";
import { themeFor } from "./render_theme.ts";
import { headerRows, renderHeader } from "./render_header.ts";
import { matrixHeight, renderPtl } from "./render_ptl.ts";
import { reasonBelow, renderTable } from "./render_table.ts";
import { renderDetail } from "./render_detail.ts";
import { renderNodes } from "./render_nodes.ts";
import type { HistoryPoint } from "./history.ts";
import {
  keyLine,
  MIN_COLS,
  MIN_ROWS,
  overlayHelp,
  renderEvents,
  renderTooSmall,
} from "./render_footer.ts";
import {
  filterProcesses,
  scrollFor,
  selectedIndexIn,
  sortProcesses,
  type UiState,
} from "./state.ts";

export type { Frame, Size } from "./render_frame.ts";
export { frameText, rowAnsi, rowText } from "./render_frame.ts";
export { MIN_COLS, MIN_ROWS } from "./render_footer.ts";

export interface RenderOptions {
  color: boolean;
  /** The last minute of a process's figures (the detail view); none when omitted. */
  history?: (p: ProcessJson) => readonly HistoryPoint[];
}

export interface Layout {
  tooSmall: boolean;
  withMatrix: boolean;
  /** Process rows visible at once (PgUp/PgDn move by this). */
  tableRows: number;
  eventRows: number;
}

/** Table title + column header, and the key line. */
const TABLE_CHROME = 2;
const KEY_LINE_ROWS = 1;
const MIN_TABLE_ROWS = 3;
const MAX_EVENT_ROWS = 6;

export function layoutFor(s: Snapshot, size: Size): Layout {
  if (size.cols < MIN_COLS || size.rows < MIN_ROWS) {
    return { tooSmall: true, withMatrix: false, tableRows: 0, eventRows: 0 };
  }
  const header = headerRows(s, size.cols);
  const ptlBase = 2; // title and steering lines
  const fixed = header + ptlBase + TABLE_CHROME + KEY_LINE_ROWS;
  let withMatrix = true;
  let free = size.rows - fixed - matrixHeight(s);
  if (free < MIN_TABLE_ROWS + 1) {
    withMatrix = false;
    free = size.rows - fixed;
  }
  const eventRows = Math.max(1, Math.min(MAX_EVENT_ROWS, Math.floor(free / 4)));
  const bodyRows = Math.max(0, free - eventRows);
  // Without a REASON column the selected row's reason takes a row of the page.
  const tableRows = reasonBelow(size.cols) ? Math.max(1, bodyRows - 1) : bodyRows;
  return { tooSmall: false, withMatrix, tableRows, eventRows };
}

/** Processes in the order the table shows them, the filter applied. */
export function displayedProcesses(s: Snapshot, ui: UiState): ProcessJson[] {
  return sortProcesses(filterProcesses(s.processes, ui.filter), ui.sort, ui.sortReversed);
}

export function renderFrame(
  snapshot: Snapshot,
  ui: UiState,
  size: Size,
  opts: RenderOptions,
): Frame {
  const cols = Math.max(0, size.cols);
  const t = themeFor(opts.color);
  const layout = layoutFor(snapshot, size);
  if (layout.tooSmall) return { cols, rows: renderTooSmall(cols, Math.max(0, size.rows), t) };

  const processes = displayedProcesses(snapshot, ui);
  const selectedIndex = selectedIndexIn(ui, processes);
  const scroll = scrollFor(selectedIndex, ui.scroll, layout.tableRows, processes.length);
  const header = renderHeader(snapshot, ui.paused, t, cols);
  const tableView = {
    processes,
    selectedIndex,
    scroll,
    sort: ui.sort,
    sortReversed: ui.sortReversed,
    filter: ui.filter,
  };
  const table = [
    ...renderPtl(snapshot, t, cols, layout.withMatrix),
    // The page of process rows, plus the reason line under the selected one.
    ...renderTable(snapshot, tableView, layout.tableRows + (reasonBelow(cols) ? 1 : 0), t, cols),
  ];
  const bodyHeight = Math.max(0, size.rows - header.length - layout.eventRows - KEY_LINE_ROWS);
  let body = table;
  if (ui.view === "nodes") body = renderNodes(snapshot, bodyHeight, t, cols);
  if (ui.view === "detail") {
    const sel = ui.selected;
    const process = sel === null
      ? null
      : snapshot.processes.find((p) => p.pid === sel.pid && p.start_time === sel.start_time) ??
        null;
    body = renderDetail(
      snapshot,
      {
        process,
        pid: sel?.pid ?? 0,
        history: process === null ? [] : opts.history?.(process) ?? [],
        events: ui.events,
      },
      bodyHeight,
      t,
      cols,
    );
  }
  let rows = [
    ...header,
    ...body,
    ...renderEvents(ui.events, ui.notice?.text ?? null, layout.eventRows, t, cols),
    keyLine(t, cols, { text: ui.filter, editing: ui.filterEditing }),
  ];
  if (ui.helpShown) rows = overlayHelp(rows, t, cols, ui.helpPage);
  // Always exactly size.rows rows: the diff writer compares row by row.
  while (rows.length < size.rows) rows.push(blankRow(cols));
  return { cols, rows: rows.slice(0, size.rows) };
}
