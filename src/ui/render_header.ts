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

function mitosisLine(s: Snapshot, t: Theme, cols: number): Row {
  const m = s.mitosis;
  const cap = s.capabilities.mitosis;
  if (!cap.present || !m || !m.available) {
    const why = m?.reason ?? cap.reason ?? "not detected";
    return rowOf(
      [span("Mitosis: ", t.label), span("not available", t.warn), span(` - ${why}`)],
      cols,
    );
  }
  const cache = m.cache.length === 0 ? UNKNOWN : m.cache.map((c) => String(c.cached)).join("/");
  const kb = m.cache_memory_kb === null ? UNKNOWN : `${m.cache_memory_kb} KB`;
  const parts: Span[] = [
    span(`  mode ${m.mode ?? UNKNOWN}`),
    span(`  inherit ${m.inherit ?? UNKNOWN}`),
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

function advisoryLine(s: Snapshot, t: Theme, cols: number): Row {
  const reasons = s.capabilities.advisory_reasons;
  const why = reasons.length > 0 ? reasons.join("; ") : "no reason given";
  return rowOf([
    span("ADVISORY", t.advisory),
    span(" nothing is written to the kernel: "),
    span(why, t.warn),
  ], cols);
}

/** How many rows renderHeader gives for this snapshot (the layout reserves them). */
export function headerRows(s: Snapshot): number {
  return s.capabilities.mode === "advisory" ? 4 : 3;
}

export function renderHeader(s: Snapshot, paused: boolean, t: Theme, cols: number): Row[] {
  const rows = [
    statusLine(s, paused, t, cols),
    mitosisLine(s, t, cols),
    countersLine(s, t, cols),
  ];
  if (s.capabilities.mode === "advisory") rows.push(advisoryLine(s, t, cols));
  return rows;
}
