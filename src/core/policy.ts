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
 * - What replication costs: page tables smaller than minPteKb are not worth
 *   copying (never enabled); with a cap on the memory all replicas take
 *   (page-table size x (replica nodes - 1)), an enable that would pass it waits.
 * - Damping (damping.ts): a process the policy turned off soon after turning
 *   it on waits longer before its next enable. Pins and manual commands are
 *   outside the policy and never damped.
 * - Effect (gain.ts): where the walk-duration figure is known, replication
 *   that brings no gain after a window is turned off, and that verdict holds
 *   the next enable back for the damping memory.
 */
import type { KeyedProcess, ReplicationStatus, SignalKind } from "./types.ts";
import { sameProcess } from "./types.ts";
import { labelReason, signalNames } from "./signals.ts";
import {
  type DampingRecord,
  enableHold,
  forgetOld,
  minutes,
  NO_DAMPING,
  recordDisable,
} from "./damping.ts";
import {
  addTo,
  atEnable,
  EMPTY_MEAN,
  GAIN_WINDOW_MS,
  type GainRecord,
  judge,
  NO_GAIN_RECORD,
  whileOn,
} from "./gain.ts";

export interface PolicyThresholds {
  thrMar: number;
  thrDtlb: number;
  hysteresisMs: number;
  /** What the two signals are (default "hardware"); "software" labels every reason. */
  signals?: SignalKind;
  /** The longest damped wait before a re-enable; 0 or absent: no damping. */
  dampMaxMs?: number;
  /** Page tables smaller than this (KiB) are not worth replicating; absent: no minimum. */
  minPteKb?: number;
  /** Cap on the memory all replicas take together, KiB; null or absent: no cap. */
  replicaCapKb?: number | null;
}

export interface PolicySample {
  key: KeyedProcess;
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
  /** Page-table size (VmPTE), KiB; null or absent = unknown (read only for processes in play). */
  pteKb?: number | null;
  /** Page-walk cycles per load; null or absent = unknown (no walk-duration event). */
  walkCyclesPerLoad?: number | null;
  /** Nodes its replicas take (or would take); null or absent = unknown. */
  replicaNodes?: number | null;
}

export interface PolicyState {
  key: KeyedProcess;
  /** Replication is (or, in advisory mode, would be) on. */
  on: boolean;
  /** Since when the signals have pointed the other way, or null. */
  pendingSinceMs: number | null;
  /** Since when replication has been on, or null while off. */
  onSinceMs: number | null;
  damping: DampingRecord;
  gain: GainRecord;
}

export type PolicyAction = "enable" | "disable" | "none";

/** The damping in force for a process, as the views show it. */
export interface DampingView {
  /** Flips remembered. */
  flips: number;
  /** The wait its next enable needs (the hysteresis when not damped). */
  holdMs: number;
  /** Time left before an enable may happen at all (a no-gain verdict), or null. */
  notBeforeInMs: number | null;
  /** The next enable waits longer than the hysteresis. */
  damped: boolean;
  noGain: boolean;
}

export interface PolicyDecision {
  state: PolicyState;
  action: PolicyAction;
  status: ReplicationStatus;
  /** Time left before the pending flip, or null when nothing is pending. */
  countdownMs: number | null;
  reason: string;
  /** Damping in force, or null when nothing is remembered. */
  damping: DampingView | null;
  /** Memory its replicas take (or would take) while on, KiB; 0 off; null unknown. */
  replicaKb: number | null;
  /** Walk cycles per load before the last enable, and since it (null = unknown). */
  walkBefore: number | null;
  walkAfter: number | null;
}

/** What one round's decisions share: the memory the replicas take so far. */
export interface PolicyRoundContext {
  replicaKbInUse: number;
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

/** "96 KiB", "1.5 MiB", "2.3 GiB": sizes in reasons. */
export function formatKb(kb: number): string {
  if (kb < 1024) return `${Math.round(kb)} KiB`;
  if (kb < 1024 * 1024) return `${Number((kb / 1024).toPrecision(3))} MiB`;
  return `${Number((kb / 1024 / 1024).toPrecision(3))} GiB`;
}

/** Replication as the policy takes it: the kernel's view, or its own belief in advisory mode. */
export function isOn(prior: PolicyState | undefined, sample: PolicySample): boolean {
  const own = prior && sameProcess(prior.key, sample.key) ? prior.on : undefined;
  return sample.advisory
    ? (own ?? sample.replicated ?? false)
    : (sample.replicated ?? own ?? false);
}

/** Page tables x (replica nodes - 1): the memory the copies take; null when unknown. */
export function replicaCostKb(sample: PolicySample): number | null {
  const pte = sample.pteKb ?? null;
  const nodes = sample.replicaNodes ?? null;
  if (pte === null || nodes === null) return null;
  return pte * Math.max(0, nodes - 1);
}

function dampingView(
  record: DampingRecord,
  nowMs: number,
  thr: PolicyThresholds,
): DampingView | null {
  if (record.flips.length === 0 && record.noGainAtMs === null) return null;
  const hold = enableHold(record, nowMs, dampingSettings(thr));
  return {
    flips: record.flips.length,
    holdMs: hold.holdMs,
    notBeforeInMs: hold.notBeforeMs === null ? null : Math.max(0, hold.notBeforeMs - nowMs),
    damped: hold.damped,
    noGain: record.noGainAtMs !== null,
  };
}

function dampingSettings(thr: PolicyThresholds) {
  return { hysteresisMs: thr.hysteresisMs, dampMaxMs: thr.dampMaxMs ?? 0 };
}

/** One process, one tick, its reason labelled with the kind of signals. Pure. */
export function decide(
  previous: PolicyState | undefined,
  sample: PolicySample,
  nowMs: number,
  thr: PolicyThresholds,
  context: PolicyRoundContext = { replicaKbInUse: 0 },
): PolicyDecision {
  const decision = decideUnlabelled(previous, sample, nowMs, thr, context);
  const reason = labelReason(thr.signals ?? "hardware", decision.reason);
  return reason === decision.reason ? decision : { ...decision, reason };
}

function decideUnlabelled(
  previous: PolicyState | undefined,
  sample: PolicySample,
  nowMs: number,
  thr: PolicyThresholds,
  context: PolicyRoundContext,
): PolicyDecision {
  const prior = previous && sameProcess(previous.key, sample.key) ? previous : undefined;
  const on = isOn(prior, sample);
  const settings = dampingSettings(thr);
  const onSinceMs = on ? (prior?.onSinceMs ?? nowMs) : null;
  const damping = forgetOld(prior?.damping ?? NO_DAMPING, nowMs, settings);
  const wasOn = prior?.on === true && prior.onSinceMs !== null;
  const gainSoFar = prior?.gain ?? NO_GAIN_RECORD;
  // Replication seen on for the first time (found so, or the enable took): the count starts.
  const gain = on
    ? whileOn(wasOn ? gainSoFar : atEnable(gainSoFar), sample.walkCyclesPerLoad)
    : gainSoFar;
  const cost = replicaCostKb(sample);
  const activeStatus: ReplicationStatus = sample.advisory ? "would-enable" : "active";

  /**
   * Every decision is made here, its reason included, so that what a
   * reason says is decided in one place.
   */
  const decision = (
    d: {
      status: ReplicationStatus;
      reason: string;
      action?: PolicyAction;
      pendingSinceMs?: number | null;
      countdownMs?: number | null;
      state?: Partial<PolicyState>;
    },
  ): PolicyDecision => {
    const state: PolicyState = {
      key: sample.key,
      on,
      pendingSinceMs: d.pendingSinceMs ?? null,
      onSinceMs,
      damping,
      gain,
      ...d.state,
    };
    const action = d.action ?? "none";
    return {
      state,
      action,
      status: d.status,
      countdownMs: d.countdownMs ?? null,
      reason: action !== "none" && sample.advisory ? `would ${action}: ${d.reason}` : d.reason,
      damping: dampingView(state.damping, nowMs, thr),
      replicaKb: state.on ? cost : 0,
      walkBefore: state.gain.before,
      walkAfter: state.on ? meanOrNull(state.gain) : null,
    };
  };
  /** Left alone: nothing pending, no countdown. */
  const hold = (status: ReplicationStatus, reason: string) => decision({ status, reason });

  if (sample.pinned === "on") return hold("pinned-on", "pinned on by hand");
  if (sample.pinned === "off") return hold("pinned-off", "pinned off by hand");
  if (sample.stuck) return hold("stuck", "a kernel call for this process did not return in time");
  if (on && sample.foreign && !sample.advisory) {
    return hold("active", "replicated outside waspd: left alone");
  }

  const signal = classify(sample.mar, sample.dtlb, thr);
  const what = describe(signal, sample.mar, sample.dtlb, thr);

  // Its effect, judged once per enable where the walk duration is known. In
  // advisory mode nothing was replicated, so there is nothing to judge.
  if (on && !sample.advisory && onSinceMs !== null) {
    const verdict = judge(gain, nowMs - onSinceMs);
    if (verdict.kind === "none") {
      return decision({
        status: "idle",
        action: "disable",
        reason: `no gain from replication: walk cycles/load ${formatSignal(verdict.before)} ` +
          `before, ${formatSignal(verdict.after)} after ${seconds(GAIN_WINDOW_MS)}`,
        state: {
          on: false,
          onSinceMs: null,
          damping: recordDisable(damping, nowMs, onSinceMs, true, settings),
          gain: { ...gain, judged: true, off: EMPTY_MEAN },
        },
      });
    }
    if (verdict.kind !== "wait") {
      return decideOn({ ...gain, judged: true });
    }
  }
  return on ? decideOn(gain) : decideOff();

  function decideOn(g: GainRecord): PolicyDecision {
    if (signal === "unknown") {
      return decision({
        status: activeStatus,
        reason: `${what}: keeping replication on`,
        state: { gain: g },
      });
    }
    if (signal === "above") {
      return decision({ status: activeStatus, reason: what, state: { gain: g } });
    }
    const since = prior?.pendingSinceMs ?? nowMs;
    const held = nowMs - since;
    if (held < thr.hysteresisMs) {
      return decision({
        status: "candidate",
        reason: `${what} for ${seconds(held)} (disable after ${seconds(thr.hysteresisMs)})`,
        pendingSinceMs: since,
        countdownMs: thr.hysteresisMs - held,
        state: { gain: g },
      });
    }
    return decision({
      status: "idle",
      action: "disable",
      reason: `${what} for ${seconds(held)}`,
      state: {
        on: false,
        onSinceMs: null,
        damping: recordDisable(damping, nowMs, onSinceMs, false, settings),
        gain: { ...g, off: EMPTY_MEAN },
      },
    });
  }

  function decideOff(): PolicyDecision {
    // The "before" figure gathers only while the process waits for its enable.
    const waiting = { ...gain, off: addTo(gain.off, sample.walkCyclesPerLoad) };
    const resting = { ...gain, off: EMPTY_MEAN };
    if (signal === "unknown") {
      return decision({ status: "n/a", reason: `${what}: no decision`, state: { gain: resting } });
    }
    if (signal === "below") {
      return decision({ status: "idle", reason: what, state: { gain: resting } });
    }
    const pte = sample.pteKb ?? null;
    const minPte = thr.minPteKb ?? 0;
    if (pte !== null && pte < minPte) {
      return decision({
        status: "idle",
        reason: `${what}, but page tables ${formatKb(pte)} < ${formatKb(minPte)}: ` +
          `too small to be worth replicating`,
        state: { gain: resting },
      });
    }
    const since = prior?.pendingSinceMs ?? nowMs;
    const held = nowMs - since;
    const wait = enableHold(damping, nowMs, settings);
    const left = Math.max(wait.holdMs - held, (wait.notBeforeMs ?? nowMs) - nowMs);
    const damped = wait.damped && wait.why !== null
      ? `; re-enable held ${
        minutes(Math.max(wait.holdMs, (wait.notBeforeMs ?? nowMs) - since))
      }: ${wait.why}`
      : "";
    if (left > 0) {
      return decision({
        status: "watch",
        reason: `${what} for ${seconds(held)} (enable after ${seconds(held + left)}${damped})`,
        pendingSinceMs: since,
        countdownMs: left,
        state: { gain: waiting },
      });
    }
    const reason = `${what} for ${seconds(held)}`;
    const cap = thr.replicaCapKb ?? null;
    if (cap !== null && (cost === null || context.replicaKbInUse + cost > cap)) {
      const why = cost === null
        ? "its page-table size is unknown"
        : `replicas would take ${formatKb(context.replicaKbInUse + cost)} > cap ${formatKb(cap)}`;
      return decision({
        status: "watch",
        reason: `replica memory cap: enable waits, ${why} (${reason})`,
        pendingSinceMs: since,
        countdownMs: 0,
        state: { gain: waiting },
      });
    }
    if (sample.stopped && !sample.advisory) {
      return decision({
        status: "watch",
        reason: `stopped: enable waits until it runs (${reason})`,
        pendingSinceMs: since,
        countdownMs: 0,
        state: { gain: waiting },
      });
    }
    return decision({
      status: activeStatus,
      action: "enable",
      reason,
      state: { on: true, onSinceMs: nowMs, gain: atEnable(waiting) },
    });
  }
}

function meanOrNull(g: GainRecord): number | null {
  return g.on.n === 0 ? null : g.on.sum / g.on.n;
}

export interface PolicyRound {
  states: Map<string, PolicyState>;
  decisions: Map<string, PolicyDecision>;
  /** States of processes that disappeared (the ones with `on` were replicated). */
  gone: PolicyState[];
  /** Memory all replicas take after this round's decisions, KiB (unknown sizes count 0). */
  replicaKb: number;
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
  // What the replicas take before anything changes; each enable adds its own.
  let replicaKbInUse = 0;
  for (const sample of samples) {
    if (isOn(previous.get(sample.key.id), sample)) {
      replicaKbInUse += replicaCostKb(sample) ?? 0;
    }
  }
  for (const sample of samples) {
    const id = sample.key.id;
    const decision = decide(previous.get(id), sample, nowMs, thr, { replicaKbInUse });
    if (decision.action === "enable") replicaKbInUse += decision.replicaKb ?? 0;
    if (decision.action === "disable") replicaKbInUse -= replicaCostKb(sample) ?? 0;
    states.set(id, decision.state);
    decisions.set(id, decision);
  }
  const gone = [...previous.entries()].filter(([id]) => !states.has(id)).map(([, state]) => state);
  return { states, decisions, gone, replicaKb: Math.max(0, replicaKbInUse) };
}
