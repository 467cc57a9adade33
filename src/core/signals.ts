/**
 * How every view says which kind of signals drive the policy. With
 * `--signals software` the two numbers are task-clock and page faults, not
 * memory accesses and page walks: each place they are shown (header, JSON,
 * metrics, decision reasons) says so in the same words, from here. Pure.
 */
import type { SignalKind } from "./types.ts";

/** Before every policy reason in software mode. */
export const SOFTWARE_REASON_PREFIX = "software stand-in: ";

/** The header's tag in software mode, beside [SIMULATED] and [ADVISORY]. */
export const SOFTWARE_SIGNALS_TAG = "[SOFTWARE SIGNALS]";

/** `capabilities.perf.signals_note` in software mode: what the numbers are, in their units. */
export const SOFTWARE_SIGNALS_NOTE =
  "not memory signals: MAR is task-clock in CPU ns per second and the dTLB ratio is page " +
  "faults per CPU ns (--signals software, for machines without a PMU)";

/** What a reason calls the rate and the ratio. */
export interface SignalNames {
  rate: string;
  ratio: string;
}

const NAMES: Record<SignalKind, SignalNames> = {
  hardware: { rate: "MAR", ratio: "dTLB" },
  software: { rate: "CPU ns/s", ratio: "faults/CPU ns" },
};

export function signalNames(kind: SignalKind): SignalNames {
  return NAMES[kind];
}

/** A policy reason as shown: prefixed in software mode, unchanged otherwise. */
export function labelReason(kind: SignalKind, reason: string): string {
  return kind === "software" ? SOFTWARE_REASON_PREFIX + reason : reason;
}

/** `capabilities.perf.signals_note`: null for hardware signals. */
export function signalsNote(kind: SignalKind): string | null {
  return kind === "software" ? SOFTWARE_SIGNALS_NOTE : null;
}
