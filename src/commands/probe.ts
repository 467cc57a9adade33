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

const MIB = 1024 * 1024;

export interface ProbeCommandJson {
  ptl: PtlJson;
  steering: SteeringJson;
  /** Problems met reading the topology. */
  warnings: string[];
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
  const m = await prober.measure(topology, probeOptions(args));
  const steering = computeSteering(m);
  const anyFailed = m.errors.some((row) => row.some((e) => e !== null));
  const nothing = m.rows.length === 0 || m.cols.length === 0;
  if (json) {
    const doc: ProbeCommandJson = {
      ptl: ptlJson(m, nowWallMs()),
      steering: steeringJson(steering, steeringArray(steering)),
      warnings: topology.warnings,
    };
    out(JSON.stringify(doc) + "\n");
  } else {
    for (const warning of topology.warnings) out(`warning: ${warning}\n`);
    out(formatLatencyTable(m));
    out("\n");
    out(formatSteering(steering));
  }
  return anyFailed || nothing ? 1 : 0;
}
