/**
 * What the daemon learns about the machine once, before its first tick, and
 * the lines it opens its event log with: in which mode it runs and why.
 */
import { capabilitiesJson } from "../core/capabilities.ts";
import { describeMask, replicationMask } from "../core/replication_mask.ts";
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

/**
 * The `info` events a starting daemon emits: its mode, the replication mask
 * (on a Mitosis kernel), and missing counters. Advisory mode, a refused mask
 * and missing counters are warnings: waspd runs, but cannot do its job there
 * (the journal shows them at priority 4). Pure.
 */
export function startupLines(
  at: MachineAtStart,
  counters: CounterStatus,
): { text: string; warning: boolean }[] {
  const caps = capabilitiesJson(at.privileges, counters, at.detection);
  const lines = [
    caps.mode === "enforcing"
      ? { text: "enforcing: waspd will change replication", warning: false }
      : {
        text: `ADVISORY: nothing is written (${caps.advisory_reasons.join("; ")})`,
        warning: true,
      },
  ];
  if (at.detection.present) {
    const mask = replicationMask(at.topology);
    lines.push(
      mask.ok
        ? { text: `replication ${describeMask(mask)}`, warning: false }
        : { text: `replication refused: ${mask.reason}`, warning: true },
    );
  }
  if (!counters.available) {
    lines.push({
      text: `${counters.signals} counters unavailable: ${counters.reason ?? "unknown"}`,
      warning: true,
    });
  } else if (caps.perf.signals_note !== null) {
    // Asked for, but the policy then rests on no memory signal: a warning every time.
    lines.push({ text: `software signals: ${caps.perf.signals_note}`, warning: true });
  }
  return lines;
}
