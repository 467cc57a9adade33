/**
 * `waspd probe`: measure the PTL latency matrix once and print it with the
 * steering it implies, as text tables or (with --json) one JSON object.
 *
 * `runProbe` takes the Prober and the Topology as parameters so the caller
 * picks the machine: the real one here, a simulated one under --sim.
 */
import type { ProbeArgs } from "../cli.ts";
import type { ProbeOptions, Prober } from "../host.ts";
import { realClock } from "../host.ts";
import type { Topology } from "../core/types.ts";
import { type PtlJson, ptlJson, type SteeringJson, steeringJson } from "../core/snapshot.ts";
import { computeSteering, steeringArray } from "../core/steering.ts";
import { formatLatencyTable, formatSteering } from "../core/ptl_format.ts";
import type { PtlMeasurement } from "../core/types.ts";
import { chooseBufferBytes } from "../../probe/plan.ts";

const MIB = 1024 * 1024;

/** Rounds of one cell further apart than this (max - min over the median) are not one figure. */
export const SPREAD_WARN = 0.2;

export interface ProbeCommandJson {
  ptl: PtlJson;
  steering: SteeringJson;
  /** How the buffer size was chosen, and what changed it (free memory...). */
  buffer: { bytes: number; why: string; notes: string[] };
  /** Problems met reading the topology, and rounds that disagree. */
  warnings: string[];
}

/**
 * A warning when some cell's rounds disagree by more than SPREAD_WARN, with
 * what that means: the median is then one reading among scattered ones, and
 * the steering built on it may follow noise. Null when all agree.
 */
export function spreadWarning(m: PtlMeasurement): string | null {
  let worst = { spread: -Infinity, row: 0, col: 0 };
  m.spread.forEach((cells, r) =>
    cells.forEach((spread, c) => {
      if (spread !== null && Number.isFinite(spread) && spread > worst.spread) {
        worst = { spread, row: m.rows[r] ?? r, col: m.cols[c] ?? c };
      }
    })
  );
  const w = worst;
  if (w.spread <= SPREAD_WARN) return null;
  const over = m.spread.flat().filter((x) => x !== null && x > SPREAD_WARN).length;
  return `rounds disagree by up to ${(w.spread * 100).toFixed(0)}% (cpu node ${w.row} -> memory ` +
    `node ${w.col}; ${over} cell${over === 1 ? "" : "s"} over ${SPREAD_WARN * 100}%): these ` +
    "latencies are not stable figures. Something else moved them between rounds: other load, " +
    "CPU frequency changes, or a VM's vCPUs descheduled by the host (steal time). Steering built " +
    "on them may follow noise; measure again on a quiet machine, or with more --rounds.";
}

function probeOptions(args: ProbeArgs): ProbeOptions {
  const options: ProbeOptions = {};
  if (args.rounds !== null) options.rounds = args.rounds;
  if (args.bufferMb !== null) options.bufferBytes = Math.round(args.bufferMb * MIB);
  return options;
}

/**
 * Measure with `prober` on `topology` and print. Exit code 0 when every cell
 * was measured, 1 when any cell failed (the table says which and why).
 */
export async function runProbe(
  prober: Prober,
  topology: Topology,
  args: ProbeArgs,
  json: boolean,
  out: (s: string) => void,
  nowWallMs: () => number = realClock.wallNow,
): Promise<number> {
  const options = probeOptions(args);
  const m = await prober.measure(topology, options);
  const steering = computeSteering(m);
  const anyFailed = m.errors.some((row) => row.some((e) => e !== null));
  const nothing = m.rows.length === 0 || m.cols.length === 0;
  // The same rule the prober applied to the same topology: said, not just used.
  const buffer = chooseBufferBytes(
    topology.llcBytes,
    topology.nodes.filter((n) => (n.memTotalKb ?? 0) > 0).map((n) => n.memFreeKb),
    options.bufferBytes ?? null,
  );
  const spread = spreadWarning(m);
  const warnings = [...topology.warnings, ...(spread === null ? [] : [spread])];
  if (json) {
    const doc: ProbeCommandJson = {
      ptl: ptlJson(m, nowWallMs()),
      steering: steeringJson(steering, steeringArray(steering)),
      buffer: { bytes: m.bufferBytes, why: buffer.why, notes: buffer.notes },
      warnings,
    };
    out(JSON.stringify(doc) + "\n");
  } else {
    for (const warning of topology.warnings) out(`warning: ${warning}\n`);
    out(`buffer ${(m.bufferBytes / MIB).toFixed(0)} MiB per node: ${buffer.why}\n`);
    for (const note of buffer.notes) out(`  ${note}\n`);
    out(formatLatencyTable(m));
    if (spread !== null) out(`\nwarning: ${spread}\n`);
    out("\n");
    out(formatSteering(steering));
  }
  return anyFailed || nothing ? 1 : 0;
}
