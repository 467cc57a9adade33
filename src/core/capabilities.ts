/**
 * Whether waspd may write to the kernel, and if not, why: root and a Mitosis
 * kernel are both required. Everything missing is a normal state reported in
 * plain words, never an error.
 */
import type { CapabilitiesJson } from "./snapshot.ts";
import { mitosisCapabilityJson } from "./snapshot.ts";
import type { CounterStatus, MitosisDetection, Privileges } from "./types.ts";
import { signalsNote } from "./signals.ts";

export function advisoryReasons(privileges: Privileges, mitosis: MitosisDetection): string[] {
  const reasons: string[] = [];
  if (!privileges.root) {
    reasons.push(`not root (uid ${privileges.uid}): replication changes need root`);
  }
  if (!mitosis.present) {
    reasons.push(`no Mitosis kernel: ${mitosis.reason ?? "/proc/mitosis not found"}`);
  }
  return reasons;
}

export function capabilitiesJson(
  privileges: Privileges,
  counters: CounterStatus,
  mitosis: MitosisDetection,
): CapabilitiesJson {
  const reasons = advisoryReasons(privileges, mitosis);
  return {
    root: privileges.root,
    uid: privileges.uid,
    perf: {
      hardware: counters.available && counters.signals === "hardware",
      available: counters.available,
      signals: counters.signals,
      signals_note: signalsNote(counters.signals),
      source: counters.source,
      reason: counters.reason,
      paranoid: counters.paranoid,
      fd_budget: counters.fdBudget,
      fd_used: counters.fdUsed,
      walk_cycles: counters.walkCycles ?? null,
      walk_cycles_reason: counters.walkCycles ? null : counters.walkCyclesReason ?? null,
    },
    mitosis: mitosisCapabilityJson(mitosis),
    mode: reasons.length === 0 ? "enforcing" : "advisory",
    advisory_reasons: reasons,
  };
}
