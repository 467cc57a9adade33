/**
 * The Frame: what the screen should show, as rows of cells (one character
 * and its style each). Cells rather than strings so the diff writer compares
 * like with like: a changed colour is a changed cell even when the text is
 * the same, and a cursor move never lands inside an escape sequence.
 */
import { SGR_RESET, type SgrParams, sgrSwitch } from "./ansi.ts";
import { charWidth, displayWidth, escapeUnsafe } from "./sanitize.ts";

export interface Cell {
  /**
   * One code point of sanitized text. A wide (two-column) character is a
   * cell holding it followed by a cell holding "" (WIDE_TAIL): the terminal
   * draws both columns when it writes the first, so the second writes nothing.
   */
  ch: string;
  /** SGR parameters, "" = default style. */
  style: SgrParams;
}

export type Row = Cell[];

export interface Frame {
  cols: number;
  rows: Row[];
}

export interface Size {
  cols: number;
  rows: number;
}

const BLANK: Cell = { ch: " ", style: "" };

/**
 * Cells are never changed once made, so one object per (style, character)
 * serves every frame: a 120x40 screen is 4800 cells a frame otherwise, all
 * garbage by the next one. Bounded: names can bring any character, so the
 * table starts over past MAX_KEPT_CELLS.
 */
const cellsByStyle = new Map<SgrParams, Map<string, Cell>>();
const MAX_KEPT_CELLS = 4096;
let keptCells = 0;

function cellOf(ch: string, style: SgrParams): Cell {
  let byChar = cellsByStyle.get(style);
  if (byChar === undefined) cellsByStyle.set(style, byChar = new Map());
  let cell = byChar.get(ch);
  if (cell === undefined) {
    if (keptCells >= MAX_KEPT_CELLS) {
      cellsByStyle.clear();
      keptCells = 0;
      cellsByStyle.set(style, byChar = new Map());
    }
    byChar.set(ch, cell = { ch, style });
    keptCells++;
  }
  return cell;
}

/** The `ch` of the second column of a wide character. */
export const WIDE_TAIL = "";

export function blankRow(cols: number): Row {
  return Array.from({ length: cols }, () => BLANK);
}

/** A span of text in one style; the text is sanitized when it becomes cells. */
export interface Span {
  text: string;
  style: SgrParams;
}

export function span(text: string, style: SgrParams = ""): Span {
  return { text, style };
}

/** Columns `text` takes once through rowOf's net (escapes are longer than what they replace). */
export function textWidth(text: string): number {
  return displayWidth(escapeUnsafe(text));
}

/**
 * Lay spans out left to right into a row exactly `cols` wide: cut at the
 * right edge (a wide character that would straddle it becomes a blank),
 * padded with blanks. Every string goes through escapeUnsafe here, so no
 * caller can put a control byte on screen by forgetting to; untrusted text
 * is sanitizeText-ed by its caller (which also marks literal backslashes),
 * and passes this net unchanged.
 */
export function rowOf(spans: readonly Span[], cols: number): Row {
  const row: Row = [];
  fill: for (const s of spans) {
    for (const ch of escapeUnsafe(s.text)) {
      const wide = charWidth(ch) === 2;
      if (row.length + (wide ? 2 : 1) > cols) break fill;
      row.push(cellOf(ch, s.style));
      if (wide) row.push(cellOf(WIDE_TAIL, s.style));
    }
  }
  while (row.length < cols) row.push(BLANK);
  return row;
}

/**
 * Overwrite `row` from `col` with `cells` (overlays: help box, centred text).
 * A wide character cut in half by the overlay's edge becomes a blank, so no
 * column is left to a half the terminal cannot draw.
 */
export function overlay(row: Row, col: number, cells: readonly Cell[]): Row {
  const out = row.slice();
  cells.forEach((cell, i) => {
    const at = col + i;
    if (at >= 0 && at < out.length) out[at] = cell;
  });
  const end = col + cells.length;
  if (col > 0 && col <= out.length && out[col]?.ch !== WIDE_TAIL && isWideHead(row, col - 1)) {
    out[col - 1] = BLANK;
  }
  if (end >= 0 && end < out.length && out[end]?.ch === WIDE_TAIL) out[end] = BLANK;
  return out;
}

function isWideHead(row: readonly Cell[], at: number): boolean {
  return row[at + 1]?.ch === WIDE_TAIL && row[at]?.ch !== WIDE_TAIL;
}

/** The text of a row, styles dropped: what tests compare. */
export function rowText(row: readonly Cell[]): string {
  return row.map((c) => c.ch).join("");
}

export function frameText(frame: Frame): string[] {
  return frame.rows.map(rowText);
}

/**
 * A row as a string with SGR escapes, for a whole-row write. With every
 * style "" (NO_COLOR) it holds no escape byte at all.
 */
export function rowAnsi(row: readonly Cell[]): string {
  let out = "";
  let current: SgrParams = "";
  for (const cell of row) {
    if (cell.style !== current) {
      out += sgrSwitch(cell.style);
      current = cell.style;
    }
    out += cell.ch;
  }
  return current === "" ? out : out + SGR_RESET;
}
