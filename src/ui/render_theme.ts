/**
 * What each thing on screen looks like. With colour off (NO_COLOR) every
 * style is "" and the frame holds no escape at all; whatever colour says
 * is then also said by text (a "*" after a remote steering choice, a ">"
 * before the selected row, tier-free numbers), so the layout never changes.
 */
import { SGR, sgrJoin, type SgrParams } from "./ansi.ts";
import type { ReplicationStatus } from "../core/types.ts";

const COLORED = {
  title: sgrJoin(SGR.bold),
  label: sgrJoin(SGR.bold),
  dim: sgrJoin(SGR.dim),
  advisory: sgrJoin(SGR.bold, SGR.onYellow),
  simulated: sgrJoin(SGR.bold, SGR.onBlue),
  paused: sgrJoin(SGR.bold, SGR.inverse),
  ok: sgrJoin(SGR.green),
  warn: sgrJoin(SGR.yellow),
  bad: sgrJoin(SGR.bold, SGR.red),
  local: sgrJoin(SGR.green),
  near: sgrJoin(SGR.yellow),
  far: sgrJoin(SGR.red),
  remote: sgrJoin(SGR.bold, SGR.magenta),
  tableHeader: sgrJoin(SGR.bold, SGR.inverse),
  selected: sgrJoin(SGR.inverse),
  notice: sgrJoin(SGR.bold, SGR.cyan),
  help: sgrJoin(SGR.bold),
  "status:active": sgrJoin(SGR.bold, SGR.green),
  "status:watch": sgrJoin(SGR.yellow),
  "status:candidate": sgrJoin(SGR.cyan),
  "status:would-enable": sgrJoin(SGR.magenta),
  "status:pinned-on": sgrJoin(SGR.blue),
  "status:pinned-off": sgrJoin(SGR.blue),
  "status:stuck": sgrJoin(SGR.bold, SGR.red),
  "status:n/a": sgrJoin(SGR.dim),
  "status:idle": "",
} as const satisfies Record<string, SgrParams>;

export type StyleName = keyof typeof COLORED;
export type Theme = Record<StyleName, SgrParams>;

const PLAIN: Theme = Object.fromEntries(
  Object.keys(COLORED).map((k) => [k, ""]),
) as Theme;

export function themeFor(color: boolean): Theme {
  return color ? COLORED : PLAIN;
}

export function statusStyle(status: ReplicationStatus): StyleName {
  return `status:${status}`;
}

/** Selected rows: reverse video on top of the cell's own colour. */
export function selectedStyle(theme: Theme, base: SgrParams): SgrParams {
  return theme.selected === "" ? base : sgrJoin(base, theme.selected);
}
