/**
 * UiState: what the TUI remembers between frames (selection, sort, scroll,
 * help, pause, recent events, a transient notice), and the pure reducers
 * that change it. A key press yields a new state and at most one Command;
 * tui.ts hands Commands to the daemon, so this file never talks to it and is
 * tested with plain data.
 */
import type { EventJson, ProcessJson, Snapshot } from "../core/snapshot.ts";
import type { Command } from "../daemon/control.ts";
import { isActionKey, keyAction } from "./bindings.ts";
import type { KeyName, KeyPress } from "./keys.ts";
import { clampUpdateInterval } from "../core/update_interval.ts";

export type SortKey = "mar" | "dtlb" | "rss" | "threads" | "pte" | "pid" | "name";
export const SORT_ORDER: readonly SortKey[] = [
  "mar",
  "dtlb",
  "rss",
  "threads",
  "pte",
  "pid",
  "name",
];
export const SORT_LABEL: Record<SortKey, string> = {
  mar: "MAR",
  dtlb: "dTLB",
  rss: "RSS",
  threads: "THR",
  pte: "PTE",
  pid: "PID",
  name: "NAME",
};

/** What fills the screen below the header: the table, one process's details, or the nodes. */
export type View = "table" | "detail" | "nodes";

/** The longest filter kept: longer than any comm (15 bytes) or pid. */
export const FILTER_MAX = 32;

/** Events kept for the footer; the footer shows as many as fit. */
export const EVENT_RING_SIZE = 50;
/** How long a "requested: ..." notice stays when no event acknowledges it. */
export const NOTICE_TTL_MS = 4000;

export interface UiState {
  /** The selected process by identity, so it survives re-sorting and new pids. */
  selected: { pid: number; start_time: number } | null;
  /** Its row index, used when the selected process vanishes. */
  selectedIndex: number;
  /** First visible table row. */
  scroll: number;
  sort: SortKey;
  /** The sort order reversed (`i`): smallest first, NAME from Z. */
  sortReversed: boolean;
  /** Rows whose name, pid or status contain this (case-insensitive); "" = all. */
  filter: string;
  /** Keys type into the filter (after `/`, until Enter or Esc). */
  filterEditing: boolean;
  view: View;
  helpShown: boolean;
  /** 0: the keys; 1: the columns. */
  helpPage: number;
  paused: boolean;
  /** Most recent last. */
  events: EventJson[];
  /** A request's notice ("requested: ...") goes when an event answers it; others on their time. */
  notice: { text: string; atMs: number; untilTimeout?: boolean } | null;
  /**
   * The update interval asked for with +/- and not yet seen in a snapshot:
   * the next press builds on it, so three presses within one tick compound.
   */
  pendingUpdate: { ms: number; atMs: number } | null;
}

export function initialUiState(): UiState {
  return {
    selected: null,
    selectedIndex: 0,
    scroll: 0,
    sort: "mar",
    sortReversed: false,
    filter: "",
    filterEditing: false,
    view: "table",
    helpShown: false,
    helpPage: 0,
    paused: false,
    events: [],
    notice: null,
    pendingUpdate: null,
  };
}

/** What the user asked the daemon to do. */
export type { Command };

/** What a key reducer needs to know about the screen as drawn. */
export interface KeyContext {
  /** The processes in display order (sortProcesses of the shown snapshot). */
  processes: readonly ProcessJson[];
  /** Table rows visible at once. */
  pageRows: number;
  /** The daemon's current update interval, or null when unknown. */
  updateMs: number | null;
  nowMs: number;
}

// ----------------------------------------------------------------- sorting

function descNullsLast(a: number | null, b: number | null): number {
  if (a === null && b === null) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return b - a;
}

/**
 * Display order; ties broken by pid so the order is stable between frames.
 * Reversed, the order is turned round but an unknown value still sorts
 * last: it is not the smallest, it is not known.
 */
export function sortProcesses(
  list: readonly ProcessJson[],
  key: SortKey,
  reversed = false,
): ProcessJson[] {
  const dir = reversed ? -1 : 1;
  const nullsLast = (a: number | null, b: number | null): number => {
    if (a === null || b === null) return descNullsLast(a, b);
    return dir * (b - a);
  };
  const byKey = (a: ProcessJson, b: ProcessJson): number => {
    switch (key) {
      case "mar":
        return nullsLast(a.mar, b.mar);
      case "dtlb":
        return nullsLast(a.dtlb_ratio, b.dtlb_ratio);
      case "rss":
        return dir * (b.rss_kb - a.rss_kb);
      case "threads":
        return dir * (b.threads - a.threads);
      case "pte":
        return nullsLast(a.pte_kb, b.pte_kb);
      case "pid":
        return dir * (a.pid - b.pid);
      case "name":
        return dir * (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    }
  };
  return [...list].sort((a, b) => byKey(a, b) || a.pid - b.pid);
}

/** The rows the filter lets through: name, pid or status containing it, any case. */
export function filterProcesses(list: readonly ProcessJson[], filter: string): ProcessJson[] {
  const f = filter.trim().toLowerCase();
  if (f === "") return [...list];
  return list.filter((p) =>
    p.name.toLowerCase().includes(f) || String(p.pid).includes(f) || p.status.includes(f)
  );
}

// ----------------------------------------------------------------- selection

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

/** The scroll that keeps `index` visible, moving as little as possible. */
export function scrollFor(index: number, scroll: number, pageRows: number, total: number): number {
  const page = Math.max(1, pageRows);
  let s = scroll;
  if (index < s) s = index;
  if (index >= s + page) s = index - page + 1;
  return clamp(s, 0, Math.max(0, total - page));
}

/** Where the selection is in `processes` now (it follows its process). */
export function selectedIndexIn(ui: UiState, processes: readonly ProcessJson[]): number {
  if (processes.length === 0) return 0;
  if (ui.selected) {
    const sel = ui.selected;
    const found = processes.findIndex((p) => p.pid === sel.pid && p.start_time === sel.start_time);
    if (found >= 0) return found;
  }
  return clamp(ui.selectedIndex, 0, processes.length - 1);
}

function selectIndex(ui: UiState, index: number, ctx: KeyContext): UiState {
  const total = ctx.processes.length;
  if (total === 0) return { ...ui, selected: null, selectedIndex: 0, scroll: 0 };
  const i = clamp(index, 0, total - 1);
  const p = ctx.processes[i]!;
  return {
    ...ui,
    selected: { pid: p.pid, start_time: p.start_time },
    selectedIndex: i,
    scroll: scrollFor(i, ui.scroll, ctx.pageRows, total),
  };
}

// ----------------------------------------------------------------- reducers

function withNotice(ui: UiState, text: string, nowMs: number): UiState {
  return { ...ui, notice: { text, atMs: nowMs } };
}

export function reduceKey(
  ui: UiState,
  key: KeyName,
  ctx: KeyContext,
): { ui: UiState; command: Command | null } {
  const at = selectedIndexIn(ui, ctx.processes);
  const none = (next: UiState) => ({ ui: next, command: null });
  const ask = (command: Command, text: string) => ({
    ui: withNotice(ui, `requested: ${text}`, ctx.nowMs),
    command,
  });
  // With help shown, ? turns to the columns page and any other key but quit
  // just closes it: the user is reading.
  if (ui.helpShown && key !== "q" && key !== "ctrl-c") {
    if ((key === "?" || key === "h") && ui.helpPage === 0) return none({ ...ui, helpPage: 1 });
    return none({ ...ui, helpShown: false, helpPage: 0 });
  }
  if (isActionKey(key)) {
    const act = keyAction(key);
    return ask(act.command, act.notice);
  }
  switch (key) {
    case "q":
      return ask({ kind: "stop", reason: "q pressed" }, "stop (undoing changes)");
    case "ctrl-c":
      return ask({ kind: "stop", reason: "Ctrl-C pressed" }, "stop (undoing changes)");
    case "e":
    case "x":
    case "u": {
      const p = ctx.processes[at];
      if (!p) return none(withNotice(ui, "no process selected", ctx.nowMs));
      const state = key === "e" ? "on" : key === "x" ? "off" : null;
      return ask(
        { kind: "pin", pid: p.pid, start_time: p.start_time, state },
        state === null ? `unpin pid ${p.pid}` : `pin ${state} pid ${p.pid}`,
      );
    }
    case "+":
    case "-": {
      const current = ui.pendingUpdate?.ms ?? ctx.updateMs;
      if (current === null) return none(withNotice(ui, "update interval unknown", ctx.nowMs));
      // The daemon clamps too; this keeps the request (and its notice) sane.
      const ms = clampUpdateInterval(key === "+" ? current * 2 : current / 2);
      // At a bound a press changes nothing: no command, so no repeated event.
      if (ms === current) {
        const bound = key === "+" ? "maximum" : "minimum";
        return none(withNotice(ui, `update interval already ${ms} ms (the ${bound})`, ctx.nowMs));
      }
      return {
        ui: withNotice(
          { ...ui, pendingUpdate: { ms, atMs: ctx.nowMs } },
          `requested: update interval ${ms} ms`,
          ctx.nowMs,
        ),
        command: { kind: "setUpdateInterval", ms },
      };
    }
    case "s": {
      const next = SORT_ORDER[(SORT_ORDER.indexOf(ui.sort) + 1) % SORT_ORDER.length]!;
      return none({ ...ui, sort: next, scroll: 0 });
    }
    case "i":
      return none({ ...ui, sortReversed: !ui.sortReversed, scroll: 0 });
    case "/":
      return none({ ...ui, filterEditing: true, view: "table", scroll: 0 });
    case "enter": {
      if (ui.view === "detail") return none({ ...ui, view: "table" });
      const p = ctx.processes[at];
      if (!p) return none(withNotice(ui, "no process selected", ctx.nowMs));
      return none({ ...selectIndex(ui, at, ctx), view: "detail" });
    }
    case "n":
      return none({ ...ui, view: ui.view === "nodes" ? "table" : "nodes" });
    case "escape":
      if (ui.view !== "table") return none({ ...ui, view: "table" });
      return none(ui.filter === "" ? ui : { ...ui, filter: "", scroll: 0 });
    case "backspace":
      return none(ui);
    case "p":
      return none({ ...ui, paused: !ui.paused });
    case "?":
    case "h":
      return none({ ...ui, helpShown: true, helpPage: 0 });
    case "up":
      return none(selectIndex(ui, at - 1, ctx));
    case "down":
      return none(selectIndex(ui, at + 1, ctx));
    case "pgup":
      return none(selectIndex(ui, at - Math.max(1, ctx.pageRows), ctx));
    case "pgdn":
      return none(selectIndex(ui, at + Math.max(1, ctx.pageRows), ctx));
    case "home":
      return none(selectIndex(ui, 0, ctx));
    case "end":
      return none(selectIndex(ui, ctx.processes.length - 1, ctx));
  }
}

/**
 * One key press: typed into the filter while it is being edited, otherwise
 * the key's action; a printable key bound to nothing says so in the notice
 * line, so a mistyped key is not taken for a dead screen.
 */
export function reducePress(
  ui: UiState,
  press: KeyPress,
  ctx: KeyContext,
): { ui: UiState; command: Command | null } {
  if (ui.filterEditing && press.key !== "ctrl-c") {
    const next = editFilter(ui, press);
    return { ui: next, command: null };
  }
  if (press.key === null) {
    if (press.char === null) return { ui, command: null };
    const shown = press.char === " " ? "Space" : `'${press.char}'`;
    const text = `key ${shown} does nothing here (? lists the keys)`;
    // Not a request: no event answers it, so it stays its while.
    return { ui: { ...ui, notice: { text, atMs: ctx.nowMs, untilTimeout: true } }, command: null };
  }
  return reduceKey(ui, press.key, ctx);
}

function editFilter(ui: UiState, press: KeyPress): UiState {
  switch (press.key) {
    case "escape":
      return { ...ui, filter: "", filterEditing: false, scroll: 0 };
    case "enter":
      return { ...ui, filterEditing: false };
    case "backspace":
      return { ...ui, filter: ui.filter.slice(0, -1), scroll: 0 };
  }
  if (press.char === null || ui.filter.length >= FILTER_MAX) return ui;
  return { ...ui, filter: ui.filter + press.char, scroll: 0 };
}

/**
 * Take in a new snapshot: keep its events (by seq, so a snapshot seen twice
 * adds nothing), drop an expired notice, and drop the notice as soon as an
 * event arrives after it (the daemon's acknowledgement replaces it).
 */
export function absorbSnapshot(ui: UiState, snapshot: Snapshot, nowMs: number): UiState {
  const lastSeq = ui.events.at(-1)?.seq ?? -Infinity;
  const fresh = snapshot.events.filter((e) => e.seq > lastSeq);
  const events = fresh.length === 0 ? ui.events : [...ui.events, ...fresh].slice(-EVENT_RING_SIZE);
  let notice = ui.notice;
  const answered = fresh.length > 0 && notice?.untilTimeout !== true;
  if (notice && (nowMs - notice.atMs > NOTICE_TTL_MS || answered)) notice = null;
  // The request is done once a snapshot shows it (or forgotten when none ever does).
  let pendingUpdate = ui.pendingUpdate;
  if (
    pendingUpdate &&
    (snapshot.daemon?.update_ms === pendingUpdate.ms ||
      nowMs - pendingUpdate.atMs > NOTICE_TTL_MS)
  ) pendingUpdate = null;
  return { ...ui, events, notice, pendingUpdate };
}
