/**
 * What the daemon learns about the machine once, before its first tick, and
 * the lines it opens its event log with: in which mode it runs and why.
 */
import { capabilitiesJson } from "../core/capabilities.ts";
import type {
  CounterStatus,
  MitosisDetection,
  MitosisState,
  Privileges,
  Topology,
} from "../core/types.ts";
import type { Host } from "../host.ts";

export interface MachineAtStart {
  topology: Topology;
  privileges: Privileges;
  detection: MitosisDetection;
  /** null without Mitosis. */
  mitosis: MitosisState | null;
}

export async function readMachine(host: Host): Promise<MachineAtStart> {
  const topology = await host.topology();
  const privileges = host.privileges();
  const detection = await host.mitosis.detect();
  const mitosis = detection.present ? await host.mitosis.read() : null;
  return { topology, privileges, detection, mitosis };
}

/** The `info` events a starting daemon emits: its mode, and missing counters. Pure. */
export function startupLines(at: MachineAtStart, counters: CounterStatus): string[] {
  const caps = capabilitiesJson(at.privileges, counters, at.detection);
  const lines = [
    caps.mode === "enforcing"
      ? "enforcing: waspd will change replication"
      : `ADVISORY: nothing is written (${caps.advisory_reasons.join("; ")})`,
  ];
  if (!counters.available) {
    lines.push(`hardware counters unavailable: ${counters.reason ?? "unknown"}`);
  }
  return lines;
}
