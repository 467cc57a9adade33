/**
 * Text renderings of a PTL measurement and of the steering it implies (pure),
 * laid out like Intel MLC's `--latency_matrix`: CPU nodes down, memory nodes
 * across, ns per load in each cell.
 */
import type { PtlMeasurement, Steering } from "./types.ts";
import { steeringArray } from "./steering.ts";

const CELL = 10;
const LABEL = 10;

function pad(text: string, width: number): string {
  return text.length >= width ? text : " ".repeat(width - text.length) + text;
}

function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${mib.toFixed(1)} MiB`;
}

function grid(
  m: PtlMeasurement,
  cell: (r: number, c: number) => string,
): string[] {
  const lines = [
    `${" ".repeat(LABEL)}memory node`,
    pad("cpu node", LABEL) + m.cols.map((n) => pad(String(n), CELL)).join(""),
  ];
  m.rows.forEach((node, r) => {
    lines.push(pad(String(node), LABEL) + m.cols.map((_, c) => pad(cell(r, c), CELL)).join(""));
  });
  return lines;
}

/** The latency matrix, the spread matrix and the failed cells with their reasons. */
export function formatLatencyTable(m: PtlMeasurement): string {
  if (m.rows.length === 0 || m.cols.length === 0) {
    return `PTL latency: nothing to measure (${m.rows.length} CPU nodes, ${m.cols.length} memory nodes)\n`;
  }
  const lines = [
    `PTL latency, ns per dependent load (median of rounds; buffer ${
      formatBytes(m.bufferBytes)
    } per node; measured in ${m.durationMs.toFixed(0)} ms)`,
    ...grid(m, (r, c) => {
      const v = m.latencyNs[r]?.[c] ?? null;
      return v === null ? "error" : v.toFixed(1);
    }),
    "",
    "Spread between rounds, (max - min) / median",
    ...grid(m, (r, c) => {
      const v = m.spread[r]?.[c] ?? null;
      return v === null ? "-" : `${(v * 100).toFixed(1)}%`;
    }),
  ];
  const failures: string[] = [];
  m.rows.forEach((row, r) =>
    m.cols.forEach((col, c) => {
      const error = m.errors[r]?.[c] ?? null;
      if (error !== null) failures.push(`  cpu node ${row} -> memory node ${col}: ${error}`);
    })
  );
  if (failures.length > 0) lines.push("", "Failed cells:", ...failures);
  return lines.join("\n") + "\n";
}

/** Each CPU node's replica choice and the array prctl 104 would receive. */
export function formatSteering(s: Steering): string {
  const lines = [
    "Steering (the replica each node's CPUs walk; remote only when faster beyond the spread)",
    pad("cpu node", LABEL) + pad("replica", CELL),
  ];
  for (const choice of s.choices) {
    const how = choice.remote ? "remote" : "local";
    lines.push(pad(String(choice.node), LABEL) + pad(String(choice.replica), CELL) + `  (${how})`);
  }
  lines.push(`prctl 104 array: [${steeringArray(s).join(", ")}]`);
  return lines.join("\n") + "\n";
}
