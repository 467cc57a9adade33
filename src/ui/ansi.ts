/**
 * Terminal escape sequences. The only module that spells them out, so that
 * "does waspd ever emit ESC here?" has one place to look, and so that a
 * non-terminal path (`--json`, a pipe) cannot reach one by accident: only
 * src/ui/screen.ts and the frame serializer (render_frame.ts) write what
 * this module builds; render_theme.ts takes SGR parameter numbers from it,
 * never an escape.
 */

export const ESC = "\x1b";
const CSI = `${ESC}[`;

/** Move the cursor to a 0-based (row, col); terminals count from 1. */
export function cursorTo(row: number, col: number): string {
  return `${CSI}${row + 1};${col + 1}H`;
}

export const CLEAR_SCREEN = `${CSI}2J`;
export const CURSOR_HIDE = `${CSI}?25l`;
export const CURSOR_SHOW = `${CSI}?25h`;
export const ALT_SCREEN_ENTER = `${CSI}?1049h`;
export const ALT_SCREEN_LEAVE = `${CSI}?1049l`;
/**
 * Autowrap off while we own the screen: writing the bottom-right cell must
 * not scroll the whole frame up by one line.
 */
export const AUTOWRAP_OFF = `${CSI}?7l`;
export const AUTOWRAP_ON = `${CSI}?7h`;
/**
 * Synchronized output (DEC private mode 2026): the terminal holds the
 * screen until the end marker, so a half-written frame is never shown.
 * Terminals that do not know the mode ignore it.
 */
export const SYNC_BEGIN = `${CSI}?2026h`;
export const SYNC_END = `${CSI}?2026l`;

/** Select Graphic Rendition parameters, e.g. "1;31". "" means the default. */
export type SgrParams = string;

export const SGR = {
  reset: "0",
  bold: "1",
  dim: "2",
  inverse: "7",
  red: "31",
  green: "32",
  yellow: "33",
  blue: "34",
  magenta: "35",
  cyan: "36",
  onRed: "41",
  onYellow: "43",
  onBlue: "44",
} as const;

/** Join SGR parameters: sgrJoin(SGR.bold, SGR.red) === "1;31". */
export function sgrJoin(...params: string[]): SgrParams {
  return params.filter((p) => p !== "").join(";");
}

/**
 * The escape that switches from any style to `params`. Always resets first:
 * styles then never leak from one segment into the next, whatever the
 * terminal's state was.
 */
export function sgrSwitch(params: SgrParams): string {
  return params === "" ? `${CSI}0m` : `${CSI}0;${params}m`;
}

export const SGR_RESET = `${CSI}0m`;
