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

const helpKeys = (b: Binding) => bindingKeys(b).map(keyLabel).join(" / ");
/** The key column of the help box: the longest keys and one space. */
const HELP_KEY_WIDTH = Math.max(...BINDINGS.map((b) => helpKeys(b).length)) + 1;

/** The help box text, one line per binding of the table. */
export const HELP_LINES: readonly string[] = [
  "waspd keys",
  "",
  ...BINDINGS.map((b: Binding) => helpKeys(b).padEnd(HELP_KEY_WIDTH) + b.help),
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
