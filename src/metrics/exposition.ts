/**
 * The Prometheus text exposition format (version 0.0.4), written by hand:
 * a family is a name, a type, a help line and its samples; this module only
 * turns those into text, escaping as the format requires. Pure.
 *
 * Why not prom-client: waspd renders a whole Snapshot at once, once per tick,
 * and serves that text until the next tick. prom-client is built around
 * long-lived mutable metric objects collected at scrape time; using it here
 * would mean resetting and refilling every gauge per tick (a second copy of
 * the state), and it brings four npm packages into the single binary for a
 * format this small. `promtool check metrics` and a real Prometheus check the
 * output in tests/metrics_prometheus_test.ts.
 */

export type MetricType = "gauge" | "counter" | "histogram" | "summary" | "untyped";

export type Labels = Readonly<Record<string, string | number>>;

export interface Sample {
  /** Suffix appended to the family name (`_bucket`, `_sum`, `_count`), or "". */
  suffix?: string;
  labels?: Labels;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: readonly Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value as the format quotes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text escapes only backslash and newline. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value: Go's float syntax for the specials, shortest round-trip otherwise. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labelText(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const parts = Object.entries(labels).map(([k, v]) => {
    if (!LABEL.test(k) || k.startsWith("__")) throw new Error(`invalid label name '${k}'`);
    return `${k}="${escapeLabelValue(typeof v === "number" ? formatValue(v) : v)}"`;
  });
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** One family as text: HELP, TYPE, then one line per sample. */
export function renderFamily(f: Family): string {
  if (!NAME.test(f.name)) throw new Error(`invalid metric name '${f.name}'`);
  const lines = [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`];
  for (const s of f.samples) {
    lines.push(`${f.name}${s.suffix ?? ""}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
  return lines.join("\n") + "\n";
}

/** Families in order; a family with no samples is left out (absent = unknown). */
export function renderExposition(families: readonly Family[]): string {
  return families.filter((f) => f.samples.length > 0).map(renderFamily).join("");
}

/** The Content-Type Prometheus expects for this format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
