/**
 * The bottom of the screen (recent events, the key line), the help overlay
 * and the "terminal too small" screen.
 */
import type { EventJson } from "../core/snapshot.ts";
import { type Binding, bindingKeys, BINDINGS, keyLabel } from "./bindings.ts";
import { blankRow, type Cell, overlay, type Row, rowOf, span } from "./render_frame.ts";
import type { Theme } from "./render_theme.ts";
import { formatClock } from "./render_format.ts";
import { displayWidth, sanitizeText } from "./sanitize.ts";
import { wrapText } from "./render_wrap.ts";
import { COLUMN_HELP } from "./render_table.ts";

/** "q quit  r remeasure ...": the footer words of the table up to `maxLevel`. */
function footerLine(maxLevel: number, word: "long" | "short", sep: string): string {
  return BINDINGS.flatMap((b: Binding) =>
    b.footer !== null && b.footer.level <= maxLevel ? [`${b.keys.join("/")} ${b.footer[word]}`] : []
  ).join(sep);
}

/** The key line, from the binding table, longest first: the widest that fits is shown. */
export const KEY_LINES: readonly string[] = [
  footerLine(3, "long", "  "),
  footerLine(3, "long", " "),
  footerLine(2, "short", " "),
  footerLine(1, "short", " "),
  footerLine(0, "short", "  "),
];

export interface FilterShown {
  text: string;
  /** Keys are typing into it. */
  editing: boolean;
}

/**
 * The key line, from the binding table, longest first: the widest that fits
 * is shown. A filter in force comes first: while it is typed, the line is
 * the filter and the keys that end it.
 */
export function keyLine(t: Theme, cols: number, filter?: FilterShown): Row {
  const pick = (room: number) =>
    KEY_LINES.find((l) => l.length <= room) ?? KEY_LINES[KEY_LINES.length - 1]!;
  if (filter?.editing) {
    return rowOf([
      span("filter: ", t.notice),
      span(`${sanitizeText(filter.text)}_`, t.notice),
      span("   Enter keeps it, Esc clears it, Backspace deletes", t.dim),
    ], cols);
  }
  if (filter !== undefined && filter.text !== "") {
    const head = `filter "${sanitizeText(filter.text)}" (/ edit, Esc clear)  `;
    return rowOf([span(head, t.notice), span(pick(cols - head.length), t.dim)], cols);
  }
  return rowOf([span(pick(cols), t.dim)], cols);
}

/** The start-up line that says why waspd is advisory: the header says the same, whole. */
const ADVISORY_EVENT = "ADVISORY: nothing is written (";

/** An event's message as the screen shows it: the advisory reasons only once, in the header. */
export function screenMessage(e: EventJson): string {
  return e.message.startsWith(ADVISORY_EVENT)
    ? "ADVISORY: nothing is written (why: in the header)"
    : e.message;
}

function eventRow(e: EventJson, t: Theme, cols: number): Row {
  const style = e.kind === "error" ? t.bad : e.kind === "undo" ? t.warn : "";
  return rowOf([
    span(formatClock(e.time), t.dim),
    span(` ${e.kind.padEnd(8)} `, style || t.label),
    span(e.pid === null ? "" : `[${e.pid}] `),
    span(sanitizeText(screenMessage(e)), style),
  ], cols);
}

/**
 * `lines` rows: the notice first when there is one, then the newest events
 * that fit, oldest on top (read like a log).
 */
export function renderEvents(
  events: readonly EventJson[],
  notice: string | null,
  lines: number,
  t: Theme,
  cols: number,
): Row[] {
  if (lines <= 0) return [];
  const rows: Row[] = [];
  if (notice !== null) rows.push(rowOf([span(notice, t.notice)], cols));
  const room = lines - rows.length;
  const shown = room > 0 ? events.slice(-room) : [];
  rows.push(...shown.map((e) => eventRow(e, t, cols)));
  if (rows.length === 0) rows.push(rowOf([span("no events yet", t.dim)], cols));
  while (rows.length < lines) rows.push(blankRow(cols));
  return rows;
}

const helpKeys = (b: Binding) => bindingKeys(b).map(keyLabel).join(" / ");
/** The key column of the help box: the longest keys and one space. */
const HELP_KEY_WIDTH = Math.max(...BINDINGS.map((b) => helpKeys(b).length)) + 1;

/** The help box text, one line per binding of the table. */
export const HELP_LINES: readonly string[] = [
  "waspd keys  (? again: the columns)",
  // The steering line explains its own "*" (render_ptl.ts): the keys have every row here.
  ...BINDINGS.map((b: Binding) => helpKeys(b).padEnd(HELP_KEY_WIDTH) + b.help),
];

const COLUMN_WIDTH = Math.max(...COLUMN_HELP.map(([title]) => title.length)) + 2;

/** The help box's second page: every column of the table and what it shows. */
export const COLUMN_HELP_LINES: readonly string[] = [
  "waspd columns  (any key closes)",
  "",
  ...COLUMN_HELP.map(([title, help]) => title.padEnd(COLUMN_WIDTH) + help),
  "",
  "- = unknown, never 0.  Columns drop out on a narrow terminal, REASON last.",
];

/** Draw the help box (page 0: keys, 1: columns) centred over `rows`, cut to fit. */
export function overlayHelp(rows: Row[], t: Theme, cols: number, page = 0): Row[] {
  const lines = page === 0 ? HELP_LINES : COLUMN_HELP_LINES;
  const inner = Math.min(cols - 4, Math.max(...lines.map((l) => l.length)));
  const height = Math.min(rows.length, lines.length + 2);
  const top = Math.max(0, Math.floor((rows.length - height) / 2));
  const left = Math.max(0, Math.floor((cols - inner - 4) / 2));
  const border = "+" + "-".repeat(inner + 2) + "+";
  const boxText = [
    border,
    ...lines.slice(0, height - 2).map((l) => `| ${l.padEnd(inner).slice(0, inner)} |`),
    border,
  ];
  const out = rows.slice();
  boxText.forEach((line, i) => {
    const target = out[top + i];
    if (!target) return;
    const cells: Cell[] = rowOf([span(line, t.help)], line.length);
    out[top + i] = overlay(target, left, cells);
  });
  return out;
}

export const MIN_COLS = 60;
export const MIN_ROWS = 15;

/** The whole screen when it is below MIN_COLS x MIN_ROWS: one centred message. */
export function renderTooSmall(cols: number, rows: number, t: Theme): Row[] {
  const message = sanitizeText(
    `terminal too small (need ${MIN_COLS}x${MIN_ROWS}, have ${cols}x${rows}) - q quits`,
  );
  const lines = wrapText(message, Math.max(1, cols)).slice(0, rows);
  const top = Math.max(0, Math.floor((rows - lines.length) / 2));
  return Array.from({ length: rows }, (_, i) => {
    const line = lines[i - top];
    if (line === undefined) return blankRow(cols);
    const pad = Math.max(0, Math.floor((cols - displayWidth(line)) / 2));
    return rowOf([span(" ".repeat(pad)), span(line, t.warn)], cols);
  });
}
