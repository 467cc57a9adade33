/**
 * The node view (`n`), as numatop's: per NUMA node its CPUs, memory total
 * and free, its SLIT distance row and its measured page-table-lookup
 * latency row. One line per node when that fits the width, else the
 * distance and latency rows go on lines of their own under it. Pure.
 */
import type { NodeJson, Snapshot } from "../core/snapshot.ts";
import { formatKb } from "../core/policy.ts";
import { blankRow, type Row, rowOf, type Span, span, textWidth } from "./render_frame.ts";
import type { Theme } from "./render_theme.ts";
import { UNKNOWN } from "./render_format.ts";

/** 0,1,2,3,8 -> "0-3,8". */
export function cpuRanges(cpus: readonly number[]): string {
  if (cpus.length === 0) return "none";
  const sorted = [...cpus].sort((a, b) => a - b);
  const parts: string[] = [];
  let lo = sorted[0]!;
  let hi = lo;
  for (const c of sorted.slice(1)) {
    if (c === hi + 1) hi = c;
    else {
      parts.push(lo === hi ? `${lo}` : `${lo}-${hi}`);
      lo = hi = c;
    }
  }
  parts.push(lo === hi ? `${lo}` : `${lo}-${hi}`);
  return parts.join(",");
}

const kb = (v: number | null) => (v === null ? UNKNOWN : formatKb(v));

function usedPercent(n: NodeJson): string {
  if (n.mem_total_kb === null || n.mem_free_kb === null || n.mem_total_kb <= 0) return UNKNOWN;
  return `${Math.round((1 - n.mem_free_kb / n.mem_total_kb) * 100)}%`;
}

function latencyRow(s: Snapshot, node: number): string {
  const ptl = s.ptl;
  if (ptl === null) return "not measured yet";
  const r = ptl.rows.indexOf(node);
  if (r < 0) return "no CPUs: not measured";
  return ptl.cols.map((_, c) => {
    const v = ptl.latency_ns[r]?.[c];
    return (v === null || v === undefined
      ? (ptl.errors[r]?.[c] ? "err" : UNKNOWN)
      : String(Math.round(v)))
      .padStart(5);
  }).join("");
}

const distanceRow = (n: NodeJson) => n.distances.map((d) => String(d).padStart(4)).join("");

/** Exactly `height` rows. */
export function renderNodes(s: Snapshot, height: number, t: Theme, cols: number): Row[] {
  const nodes = s.host.nodes;
  const cpusWidth = Math.min(14, Math.max(4, ...nodes.map((n) => cpuRanges(n.cpus).length)));
  const head = (n: NodeJson | null): string =>
    n === null
      ? `${"NODE".padEnd(5)}${"CPUS".padEnd(cpusWidth + 1)}${"TOTAL".padStart(10)}${
        "FREE".padStart(10)
      }${"USED".padStart(6)}`
      : `${String(n.id).padEnd(5)}${cpuRanges(n.cpus).slice(0, cpusWidth).padEnd(cpusWidth + 1)}${
        kb(n.mem_total_kb).padStart(10)
      }${kb(n.mem_free_kb).padStart(10)}${usedPercent(n).padStart(6)}`;
  const distTitle = "  DISTANCE".padEnd(2 + 4 * nodes.length);
  const latTitle = "  PTL ns to node " + (s.ptl?.cols.join(" ") ?? "");
  const oneLine = textWidth(head(null) + distTitle + latTitle) <= cols &&
    nodes.every((n) =>
      textWidth(head(n) + "  " + distanceRow(n) + "  " + latencyRow(s, n.id)) <= cols
    );
  const rows: Row[] = [
    rowOf([
      span("Nodes", t.label),
      span("  (Esc back)   PTL ns: from the node's CPUs to each node's memory", t.dim),
    ], cols),
  ];
  const header: Span[] = [span(head(null))];
  if (oneLine) header.push(span(distTitle), span(latTitle));
  rows.push(rowOf([span(header.map((x) => x.text).join("").padEnd(cols), t.tableHeader)], cols));
  for (const n of nodes) {
    if (oneLine) {
      rows.push(
        rowOf([span(head(n)), span("  " + distanceRow(n)), span("  " + latencyRow(s, n.id))], cols),
      );
    } else {
      rows.push(rowOf([span(head(n))], cols));
      rows.push(rowOf([span("     distance ", t.dim), span(distanceRow(n))], cols));
      rows.push(rowOf([span("     PTL ns   ", t.dim), span(latencyRow(s, n.id))], cols));
    }
  }
  if (rows.length > height && height > 0) {
    const cut = rows.slice(0, Math.max(0, height - 1));
    cut.push(
      rowOf([span("  more nodes than rows: a taller terminal shows them all", t.dim)], cols),
    );
    return cut;
  }
  while (rows.length < height) rows.push(blankRow(cols));
  return rows;
}
