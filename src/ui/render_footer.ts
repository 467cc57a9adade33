/**
 * The bottom of the screen (recent events, the key line), the help overlay
 * and the "terminal too small" screen.
 */
import type { EventJson } from "../core/snapshot.ts";
import { blankRow, type Cell, overlay, type Row, rowOf, span } from "./render_frame.ts";
import type { Theme } from "./render_theme.ts";
import { formatClock } from "./render_format.ts";
import { displayWidth, sanitizeText } from "./sanitize.ts";

/** The key line, longest first: the widest that fits is shown. */
export const KEY_LINES: readonly string[] = [
  "q quit  r remeasure  c cache+100  d drain  m mode  e/x/u pin on/off/unpin  s sort  +/- interval  p pause  ? help",
  "q quit r remeasure c cache+100 d drain m mode e/x pin s sort +/- interval p pause ?help",
  "q quit r remeasure c cache d drain m mode e/x pin s sort +/- rate p pause ?help",
  "q quit r ptl c cache d drain m mode e/x pin s sort ?help",
  "q quit  ? help",
];

export function keyLine(t: Theme, cols: number): Row {
  const line = KEY_LINES.find((l) => l.length <= cols) ?? KEY_LINES[KEY_LINES.length - 1]!;
  return rowOf([span(line, t.dim)], cols);
}

function eventRow(e: EventJson, t: Theme, cols: number): Row {
  const style = e.kind === "error" ? t.bad : e.kind === "undo" ? t.warn : "";
  return rowOf([
    span(formatClock(e.time), t.dim),
    span(` ${e.kind.padEnd(8)} `, style || t.label),
    span(e.pid === null ? "" : `[${e.pid}] `),
    span(sanitizeText(e.message), style),
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

export const HELP_LINES: readonly string[] = [
  "waspd keys",
  "",
  "q, Ctrl-C   quit (the daemon undoes what it changed)",
  "r           re-measure the PTL latency matrix",
  "c           page-table cache: +100 pages per node",
  "d           drain the page-table cache",
  "m           toggle Mitosis mode (-1 <-> 1)",
  "up/down     move the selection; PgUp/PgDn a page",
  "e / x       pin the selected process on / off",
  "u           unpin it (the policy decides again)",
  "s           sort by MAR, dTLB, RSS, PID, NAME",
  "+ / -       double / halve the update interval",
  "p           pause the display (sampling goes on)",
  "? / h       this help; any key closes it",
  "",
  "* in the steering line = remote replica",
];

/** Draw the help box centred over `rows` (cut to fit a small terminal). */
export function overlayHelp(rows: Row[], t: Theme, cols: number): Row[] {
  const inner = Math.min(cols - 4, Math.max(...HELP_LINES.map((l) => l.length)));
  const height = Math.min(rows.length, HELP_LINES.length + 2);
  const top = Math.max(0, Math.floor((rows.length - height) / 2));
  const left = Math.max(0, Math.floor((cols - inner - 4) / 2));
  const border = "+" + "-".repeat(inner + 2) + "+";
  const boxText = [
    border,
    ...HELP_LINES.slice(0, height - 2).map((l) => `| ${l.padEnd(inner).slice(0, inner)} |`),
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

/** Greedy word wrap of already safe text into lines of at most `width`. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const candidate = line === "" ? word : `${line} ${word}`;
    if (displayWidth(candidate) <= width || line === "") line = candidate;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** The whole screen when it is below MIN_COLS x MIN_ROWS: one centred message. */
export function renderTooSmall(cols: number, rows: number, t: Theme): Row[] {
  const message = sanitizeText(
    `terminal too small (need ${MIN_COLS}x${MIN_ROWS}, have ${cols}x${rows}) - q quits`,
  );
  const lines = wrap(message, Math.max(1, cols)).slice(0, rows);
  const top = Math.max(0, Math.floor((rows - lines.length) / 2));
  return Array.from({ length: rows }, (_, i) => {
    const line = lines[i - top];
    if (line === undefined) return blankRow(cols);
    const pad = Math.max(0, Math.floor((cols - displayWidth(line)) / 2));
    return rowOf([span(" ".repeat(pad)), span(line, t.warn)], cols);
  });
}
