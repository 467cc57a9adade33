/**
 * The header: identity and state of the machine and of Mitosis. Row 0 says
 * what kind of session this is (SIMULATED, SOFTWARE SIGNALS, ADVISORY,
 * PAUSED) before anything else, so a narrow terminal cuts the clock, never
 * the warnings.
 */
import type { Snapshot } from "../core/snapshot.ts";
import { formatKb } from "../core/policy.ts";
import { type Row, rowOf, type Span, span, textWidth } from "./render_frame.ts";
import type { Theme } from "./render_theme.ts";
import { formatClock, formatDuration, UNKNOWN } from "./render_format.ts";
import { SOFTWARE_SIGNALS_TAG } from "../core/signals.ts";
import { sanitizeText } from "./sanitize.ts";
import { wrapText } from "./render_wrap.ts";

function spansWidth(spans: readonly Span[]): number {
  return spans.reduce((n, s) => n + textWidth(s.text), 0);
}

/** Left spans, then `right` flush with the right edge when there is room. */
function leftRight(left: Span[], right: Span[], cols: number): Row {
  const gap = cols - spansWidth(left) - spansWidth(right);
  return rowOf(gap >= 1 ? [...left, span(" ".repeat(gap)), ...right] : left, cols);
}

function statusLine(s: Snapshot, paused: boolean, t: Theme, cols: number): Row {
  const tags: Span[] = [span("waspd", t.title)];
  if (s.simulated) tags.push(span(" "), span("[SIMULATED]", t.simulated));
  if (s.capabilities.perf.signals === "software") {
    tags.push(span(" "), span(SOFTWARE_SIGNALS_TAG, t.advisory));
  }
  if (s.capabilities.mode === "advisory") tags.push(span(" "), span("[ADVISORY]", t.advisory));
  if (paused) tags.push(span(" "), span("[PAUSED]", t.paused));
  const d = s.daemon;
  const mhz = s.host.cpu.mhz === null ? UNKNOWN : Math.round(s.host.cpu.mhz).toString();
  const nodes = s.host.nodes.length;
  // Most useful first: facts are added while they fit, so a narrow
  // terminal loses the hostname before the clock.
  const facts = [
    `${nodes} node${nodes === 1 ? "" : "s"}`,
    `${mhz} MHz`,
    `hyst ${formatDuration(d?.hysteresis_ms ?? null)}`,
    `upd ${formatDuration(d?.update_ms ?? null)}`,
    replicaFact(d),
    s.host.hostname,
  ];
  const clock = [span(" " + formatClock(s.time), t.label)];
  const left = [...tags];
  for (const fact of facts) {
    const next = span(`  ${fact}`);
    if (spansWidth([...left, next, ...clock]) > cols) break;
    left.push(next);
  }
  return leftRight(left, clock, cols);
}

/** What the replicas take, against the cap when there is one: "replicas 48 MiB/1 GiB". */
function replicaFact(d: Snapshot["daemon"]): string {
  if (d === null) return `replicas ${UNKNOWN}`;
  const cap = d.replica_cap_kb === null ? "" : `/${formatKb(d.replica_cap_kb)}`;
  return `replicas ${formatKb(d.replica_kb_total)}${cap}`;
}

/** /proc/mitosis/mode in words, the raw value after: "per-process (-1)". */
export function modeWords(mode: number | null): string {
  if (mode === null) return UNKNOWN;
  const word = mode === -1
    ? "per-process"
    : mode === 0
    ? "node-0 only"
    : mode === 1
    ? "auto (new processes)"
    : "unknown";
  return `${word} (${mode})`;
}

/** /proc/mitosis/inherit in words: 1 on (children inherit replication), -1 off. */
export function inheritWords(inherit: number | null): string {
  if (inherit === null) return UNKNOWN;
  return inherit === 1 ? "on" : inherit === -1 ? "off" : `unknown (${inherit})`;
}

function mitosisLine(s: Snapshot, t: Theme, cols: number): Row {
  const m = s.mitosis;
  const cap = s.capabilities.mitosis;
  if (!cap.present || !m || !m.available) {
    const why = m?.reason ?? cap.reason ?? "not detected";
    // Said once: when it is why waspd is advisory, the ADVISORY lines give it.
    const inAdvisory = s.capabilities.mode === "advisory" &&
      s.capabilities.advisory_reasons.some((r) => r.includes(why));
    return rowOf([
      span("Mitosis: ", t.label),
      span("not available", t.warn),
      span(inAdvisory ? " (why: see ADVISORY)" : ` - ${why}`),
    ], cols);
  }
  const cache = m.cache.length === 0 ? UNKNOWN : m.cache.map((c) => String(c.cached)).join("/");
  const kb = m.cache_memory_kb === null ? UNKNOWN : `${m.cache_memory_kb} KB`;
  const parts: Span[] = [
    span(`  mode ${modeWords(m.mode)}`),
    span(`  inherit ${inheritWords(m.inherit)}`),
    span(`  cache ${cache} pg (${kb})`),
  ];
  if (m.replication_active !== null) {
    parts.push(span(`  replication ${m.replication_active ? "ON" : "off"}`));
  }
  const left: Span[] = [span("Mitosis: ", t.label), span(m.variant ?? "unknown variant", t.ok)];
  // Whole facts or none: a cut "cache 100/10" would read as a wrong value.
  for (const part of parts) {
    if (spansWidth([...left, part]) > cols) break;
    left.push(part);
  }
  return rowOf(left, cols);
}

/** Which counters feed MAR and dTLB, and how much of their fd budget they use; or why none. */
function countersLine(s: Snapshot, t: Theme, cols: number): Row {
  const perf = s.capabilities.perf;
  if (!perf.available) {
    return rowOf([
      span("Counters: ", t.label),
      span(perf.signals === "software" ? "software events unavailable" : "unavailable", t.warn),
      span(` - ${perf.reason ?? "no reason given"}`),
    ], cols);
  }
  if (perf.signals_note !== null) {
    return rowOf([
      span("Counters: ", t.label),
      span("software stand-in", t.warn),
      span(` - ${perf.signals_note}`),
    ], cols);
  }
  return rowOf([
    span("Counters: ", t.label),
    span(perf.source ?? UNKNOWN, s.simulated ? t.simulated : t.ok),
    span(`  fds ${perf.fd_used}/${perf.fd_budget}`),
    span(`  paranoid ${perf.paranoid ?? UNKNOWN}`),
  ], cols);
}

/** At most this many rows for the ADVISORY reasons; past it they are cut, marked "~". */
const MAX_ADVISORY_ROWS = 3;
const ADVISORY_LEAD = "ADVISORY nothing is written to the kernel: ";

/** The ADVISORY reasons, wrapped (never cut mid-sentence within MAX_ADVISORY_ROWS rows). */
function advisoryText(s: Snapshot, cols: number): string[] {
  const reasons = s.capabilities.advisory_reasons;
  const why = sanitizeText(reasons.length > 0 ? reasons.join("; ") : "no reason given");
  const lines = wrapText(ADVISORY_LEAD + why, Math.max(20, cols - 1));
  if (lines.length <= MAX_ADVISORY_ROWS) return lines;
  const kept = lines.slice(0, MAX_ADVISORY_ROWS);
  kept[MAX_ADVISORY_ROWS - 1] = kept[MAX_ADVISORY_ROWS - 1]!.slice(0, Math.max(0, cols - 2)) + "~";
  return kept;
}

function advisoryRows(s: Snapshot, t: Theme, cols: number): Row[] {
  return advisoryText(s, cols).map((text, i) =>
    i === 0
      ? rowOf([
        span("ADVISORY", t.advisory),
        span(text.slice("ADVISORY".length, ADVISORY_LEAD.length)),
        span(text.slice(ADVISORY_LEAD.length), t.warn),
      ], cols)
      : rowOf([span(text, t.warn)], cols)
  );
}

/** How many rows renderHeader gives for this snapshot (the layout reserves them). */
export function headerRows(s: Snapshot, cols: number): number {
  return 3 + (s.capabilities.mode === "advisory" ? advisoryText(s, cols).length : 0);
}

export function renderHeader(s: Snapshot, paused: boolean, t: Theme, cols: number): Row[] {
  const rows = [
    statusLine(s, paused, t, cols),
    mitosisLine(s, t, cols),
    countersLine(s, t, cols),
  ];
  if (s.capabilities.mode === "advisory") rows.push(...advisoryRows(s, t, cols));
  return rows;
}
