/**
 * The replication policy: thresholds with hysteresis, per process, as a pure
 * state machine. Data in (previous state, one sample, now), data out (new
 * state, action, status, countdown, reason). No clock, no kernel, no I/O.
 *
 * - `above` = MAR > thrMar AND dTLB ratio > thrDtlb (strictly: a value equal
 *   to its threshold is not above).
 * - `below` = MAR <= thrMar OR dTLB <= thrDtlb, judged only when both are
 *   known.
 * - Unknown signals (either null) never flip a decision, and they RESET the
 *   pending timer: "above for hysteresisMs" must be observed without a gap,
 *   so a process whose counters vanished for a tick starts its wait again.
 * - Enable once above has held for hysteresisMs; disable once below has held
 *   as long. After an action the timer restarts, which also paces retries of
 *   a call that failed (the kernel's view, `replicated`, corrects `on`).
 * - Pinned processes are left alone; a process marked stuck gets no action.
 * - A stopped process's enable waits, still pending, and happens once it
 *   runs; a process replicated by someone else is never disabled (waspd
 *   undoes only what it did).
 * - With software signals (`--signals software`) every reason starts with
 *   "software stand-in: " and names the stand-ins (CPU ns/s, faults/CPU ns):
 *   the decision then rests on no memory signal, and says so.
 * - State is keyed by pid + start time, so a reused pid starts fresh; a
 *   process that is gone has its state dropped (the daemon turns nothing off
 *   for it: the kernel freed its replicas with its mm).
 */
import type { ProcessKey, ReplicationStatus, SignalKind } from "./types.ts";
import { processKeyString } from "./types.ts";
import { labelReason, signalNames } from "./signals.ts";

export interface PolicyThresholds {
  thrMar: number;
  thrDtlb: number;
  hysteresisMs: number;
  /** What the two signals are (default "hardware"); "software" labels every reason. */
  signals?: SignalKind;
}

export interface PolicySample {
  key: ProcessKey;
  /** Memory access rate, loads/s; null = unknown. */
  mar: number | null;
  /** Page walks per load; null = unknown. */
  dtlb: number | null;
  /** Replication as the kernel reports it; null = unknown (then waspd's own belief stands). */
  replicated: boolean | null;
  pinned: "on" | "off" | null;
  /** A kernel call for this process overran its deadline. */
  stuck: boolean;
  /**
   * State T/t: prctl 100 would block until it runs, so an enable waits
   * (still pending, to happen as soon as it runs again).
   */
  stopped: boolean;
  /**
   * Replicated by someone else (auto mode, inheritance, another tool): not
   * waspd's to turn off, so it is never disabled.
   */
  foreign: boolean;
  /** Advisory mode: nothing is written; decisions are reported as "would". */
  advisory: boolean;
}

export interface PolicyState {
  key: ProcessKey;
  /** Replication is (or, in advisory mode, would be) on. */
  on: boolean;
  /** Since when the signals have pointed the other way, or null. */
  pendingSinceMs: number | null;
}

export type PolicyAction = "enable" | "disable" | "none";

export interface PolicyDecision {
  state: PolicyState;
  action: PolicyAction;
  status: ReplicationStatus;
  /** Time left before the pending flip, or null when nothing is pending. */
  countdownMs: number | null;
  reason: string;
}

export type Signal = "above" | "below" | "unknown";

/** Classify one sample against the thresholds. Pure. */
export function classify(mar: number | null, dtlb: number | null, thr: PolicyThresholds): Signal {
  if (mar === null || dtlb === null || !Number.isFinite(mar) || !Number.isFinite(dtlb)) {
    return "unknown";
  }
  return mar > thr.thrMar && dtlb > thr.thrDtlb ? "above" : "below";
}

/**
 * Compact numbers for reasons: 2.1e7, 1.04e7, 0.034, 12. Three significant
 * digits: with two, a MAR of 1.04e7 printed as "1e7 > 1e7".
 */
export function formatSignal(value: number): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e4 || magnitude < 1e-3) {
    const [mantissa = "", exponent = ""] = value.toExponential(2).split("e");
    return `${Number(mantissa)}e${exponent.replace("+", "")}`;
  }
  return String(Number(value.toPrecision(3)));
}

function describe(
  signal: Signal,
  mar: number | null,
  dtlb: number | null,
  thr: PolicyThresholds,
): string {
  const names = signalNames(thr.signals ?? "hardware");
  const marText = `${names.rate} ${mar === null ? "unknown" : formatSignal(mar)}`;
  const dtlbText = `${names.ratio} ${dtlb === null ? "unknown" : formatSignal(dtlb)}`;
  if (signal === "unknown") return `${marText}, ${dtlbText}`;
  if (signal === "above") {
    return `${marText} > ${formatSignal(thr.thrMar)} and ${dtlbText} > ${
      formatSignal(thr.thrDtlb)
    }`;
  }
  // Name the signal(s) that are not above.
  const parts: string[] = [];
  if (mar !== null && mar <= thr.thrMar) parts.push(`${marText} <= ${formatSignal(thr.thrMar)}`);
  if (dtlb !== null && dtlb <= thr.thrDtlb) {
    parts.push(`${dtlbText} <= ${formatSignal(thr.thrDtlb)}`);
  }
  return parts.join(" and ");
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One process, one tick, its reason labelled with the kind of signals. Pure. */
export function decide(
  previous: PolicyState | undefined,
  sample: PolicySample,
  nowMs: number,
  thr: PolicyThresholds,
): PolicyDecision {
  const decision = decideUnlabelled(previous, sample, nowMs, thr);
  const reason = labelReason(thr.signals ?? "hardware", decision.reason);
  return reason === decision.reason ? decision : { ...decision, reason };
}

function decideUnlabelled(
  previous: PolicyState | undefined,
  sample: PolicySample,
  nowMs: number,
  thr: PolicyThresholds,
): PolicyDecision {
  const prior = previous && processKeyString(previous.key) === processKeyString(sample.key)
    ? previous
    : undefined;
  // In advisory mode the kernel never changes, so waspd's own belief is the state.
  const on = sample.advisory
    ? (prior?.on ?? sample.replicated ?? false)
    : (sample.replicated ?? prior?.on ?? false);
  const hold = (
    status: ReplicationStatus,
    reason: string,
    pendingSinceMs: number | null = null,
  ): PolicyDecision => ({
    state: { key: sample.key, on, pendingSinceMs },
    action: "none",
    status,
    countdownMs: pendingSinceMs === null
      ? null
      : Math.max(0, thr.hysteresisMs - (nowMs - pendingSinceMs)),
    reason,
  });
  const activeStatus: ReplicationStatus = sample.advisory ? "would-enable" : "active";

  if (sample.pinned === "on") return hold("pinned-on", "pinned on by hand");
  if (sample.pinned === "off") return hold("pinned-off", "pinned off by hand");
  if (sample.stuck) return hold("stuck", "a kernel call for this process did not return in time");
  if (on && sample.foreign && !sample.advisory) {
    return hold("active", "replicated outside waspd: left alone");
  }

  const signal = classify(sample.mar, sample.dtlb, thr);
  const what = describe(signal, sample.mar, sample.dtlb, thr);
  if (signal === "unknown") {
    return on
      ? hold(activeStatus, `${what}: keeping replication on`)
      : hold("n/a", `${what}: no decision`);
  }
  // Signals agree with the current state: nothing pending.
  if ((signal === "above") === on) {
    return on ? hold(activeStatus, `${what}`) : hold("idle", `${what}`);
  }
  const since = prior?.pendingSinceMs ?? nowMs;
  const held = nowMs - since;
  if (held < thr.hysteresisMs) {
    const verb = on ? "disable" : "enable";
    return hold(
      on ? "candidate" : "watch",
      `${what} for ${seconds(held)} (${verb} after ${seconds(thr.hysteresisMs)})`,
      since,
    );
  }
  const action: PolicyAction = on ? "disable" : "enable";
  const reason = `${what} for ${seconds(held)}`;
  if (action === "enable" && sample.stopped && !sample.advisory) {
    return hold("watch", `stopped: enable waits until it runs (${reason})`, since);
  }
  return {
    state: { key: sample.key, on: !on, pendingSinceMs: null },
    action,
    status: action === "enable" ? activeStatus : "idle",
    countdownMs: null,
    reason: sample.advisory ? `would ${action}: ${reason}` : reason,
  };
}

export interface PolicyRound {
  states: Map<string, PolicyState>;
  decisions: Map<string, PolicyDecision>;
  /** States of processes that disappeared (the ones with `on` were replicated). */
  gone: PolicyState[];
}

/** Every sampled process, one tick; processes not sampled are dropped. Pure. */
export function decideAll(
  previous: ReadonlyMap<string, PolicyState>,
  samples: readonly PolicySample[],
  nowMs: number,
  thr: PolicyThresholds,
): PolicyRound {
  const states = new Map<string, PolicyState>();
  const decisions = new Map<string, PolicyDecision>();
  for (const sample of samples) {
    const id = processKeyString(sample.key);
    const decision = decide(previous.get(id), sample, nowMs, thr);
    states.set(id, decision.state);
    decisions.set(id, decision);
  }
  const gone = [...previous.entries()].filter(([id]) => !states.has(id)).map(([, state]) => state);
  return { states, decisions, gone };
}
