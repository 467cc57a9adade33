/**
 * The detail view of one process (Enter on its row; Esc returns): the last
 * minute of its MAR and walk ratio as sparklines, its replication (nodes,
 * mask, steering, pin), what its replicas take, why the policy decided as it
 * did, and its decisions and events. Pure, as the rest of the frame.
 */
import type { EventJson, ProcessJson, Snapshot } from "../core/snapshot.ts";
import { formatKb } from "../core/policy.ts";
import { blankRow, type Row, rowOf, type Span, span } from "./render_frame.ts";
import type { Theme } from "./render_theme.ts";
import {
  formatClock,
  formatCountdown,
  formatDuration,
  formatPercent,
  formatSi,
  UNKNOWN,
} from "./render_format.ts";
import { HISTORY_MS, type HistoryPoint, sparkline } from "./history.ts";
import { sanitizeName, sanitizeText } from "./sanitize.ts";
import { steeringSpans } from "./render_ptl.ts";
import { wrapText } from "./render_wrap.ts";

export interface DetailView {
  /** The process shown; null when it has exited (identity kept in `pid`). */
  process: ProcessJson | null;
  pid: number;
  history: readonly HistoryPoint[];
  /** The screen's recent events, oldest first (this view keeps the process's own). */
  events: readonly EventJson[];
}

const LABEL = 16;

function line(label: string, value: Span[], t: Theme, cols: number): Row {
  return rowOf([span(`  ${label}`.padEnd(LABEL), t.label), ...value], cols);
}

function stats(values: readonly (number | null)[], format: (v: number) => string): string {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (known.length === 0) return "no known sample";
  return `min ${format(Math.min(...known))}  max ${format(Math.max(...known))}`;
}

function sparkRow(
  label: string,
  now: string,
  values: readonly (number | null)[],
  format: (v: number) => string,
  t: Theme,
  cols: number,
): Row {
  const summary = `  ${stats(values, format)}`;
  const shown = now.padStart(7);
  const width = Math.max(4, cols - LABEL - shown.length - 2 - summary.length);
  return line(
    label,
    [
      span(shown),
      span("  "),
      span(sparkline(values, width), t.ok),
      span(summary, t.dim),
    ],
    t,
    cols,
  );
}

function replicationText(p: ProcessJson): string {
  if (p.replicated === null) return "unknown (the kernel does not say)";
  if (!p.replicated) return "off";
  const nodes = p.replica_nodes === null ? UNKNOWN : p.replica_nodes.join(",");
  const mask = p.replica_mask === null ? "" : `  mask 0x${p.replica_mask.toString(16)}`;
  return `on, nodes ${nodes}${mask}`;
}

function memoryText(p: ProcessJson): string {
  const kb = (v: number | null) => (v === null ? UNKNOWN : formatKb(v));
  return `RSS ${formatKb(p.rss_kb)}  threads ${p.threads}  page tables ${kb(p.pte_kb)}  ` +
    `replicas ${kb(p.replica_kb)}`;
}

function walkText(p: ProcessJson): string {
  const n = (v: number | null) => (v === null ? UNKNOWN : v.toFixed(2));
  return `now ${n(p.walk_cycles_per_load)}  before enable ${n(p.walk_cycles_before)}  ` +
    `since ${n(p.walk_cycles_after)}`;
}

function dampingText(p: ProcessJson): string {
  const d = p.damping;
  if (d === null) return "none";
  const parts = [
    `${d.flips} quick flip${d.flips === 1 ? "" : "s"}`,
    `hold ${formatDuration(d.hold_ms)}`,
  ];
  if (d.no_gain) parts.push("no gain: re-enable held");
  if (d.not_before_ms !== null) parts.push(`not before ${formatDuration(d.not_before_ms)}`);
  return parts.join(", ");
}

function eventRow(e: EventJson, t: Theme, cols: number): Row {
  return rowOf([
    span(`  ${formatClock(e.time)}`, t.dim),
    span(` ${e.kind.padEnd(8)} `, e.kind === "error" ? t.bad : t.label),
    span(sanitizeText(e.message)),
  ], cols);
}

/** Exactly `height` rows. */
export function renderDetail(
  s: Snapshot,
  view: DetailView,
  height: number,
  t: Theme,
  cols: number,
): Row[] {
  const rows: Row[] = [];
  const p = view.process;
  const title: Span[] = [span("Process ", t.label)];
  if (p === null) {
    title.push(span(`${view.pid} has exited`, t.warn));
  } else {
    title.push(
      span(`${p.pid} `, t.label),
      span(sanitizeName(p.name, 24), t.label),
      span(`  ${p.status}`, t[`status:${p.status}`]),
      span(p.countdown_ms === null ? "" : `  flips in ${formatCountdown(p.countdown_ms)}`),
    );
  }
  title.push(span("   (Esc back, Up/Down another process)", t.dim));
  rows.push(rowOf(title, cols));
  if (p !== null) {
    const seconds = Math.round(HISTORY_MS / 1000);
    rows.push(rowOf([span(`  last ${seconds} s, ${view.history.length} samples`, t.dim)], cols));
    rows.push(
      sparkRow("MAR/s", formatSi(p.mar), view.history.map((h) => h.mar), formatSi, t, cols),
    );
    rows.push(
      sparkRow(
        "walks/load",
        `${formatPercent(p.dtlb_ratio, 2)}%`,
        view.history.map((h) => h.dtlb),
        (v) => `${formatPercent(v, 2)}%`,
        t,
        cols,
      ),
    );
    rows.push(line("replication", [span(replicationText(p))], t, cols));
    rows.push(
      line("steering", p.replicated ? steeringSpans(s.steering, t) : [span("-", t.dim)], t, cols),
    );
    rows.push(
      line("pin", [span(p.pinned === null ? "none (the policy decides)" : p.pinned)], t, cols),
    );
    rows.push(line("memory", [span(memoryText(p))], t, cols));
    rows.push(line("walk cyc/load", [span(walkText(p))], t, cols));
    rows.push(line("damping", [span(dampingText(p))], t, cols));
    const why = wrapText(sanitizeText(p.reason), Math.max(10, cols - LABEL));
    why.forEach((w, i) => rows.push(line(i === 0 ? "why" : "", [span(w)], t, cols)));
  }
  const decision = s.decisions.find((d) =>
    p !== null && d.pid === p.pid && d.start_time === p.start_time
  );
  const own = view.events.filter((e) => e.pid === view.pid);
  rows.push(rowOf([span("Decisions and events", t.label)], cols));
  if (decision !== undefined && decision.action !== "none") {
    rows.push(
      rowOf([span(`  now: ${decision.action}: `), span(sanitizeText(decision.reason))], cols),
    );
  }
  const room = Math.max(0, height - rows.length);
  if (own.length === 0 && room > 0) rows.push(rowOf([span("  none seen yet", t.dim)], cols));
  else rows.push(...own.slice(-room).map((e) => eventRow(e, t, cols)));
  while (rows.length < height) rows.push(blankRow(cols));
  return rows.slice(0, height);
}
