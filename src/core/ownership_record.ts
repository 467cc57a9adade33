/**
 * The ownership record: which processes this waspd turned replication on
 * for, kept outside the process (owned.json) so that a waspd killed without
 * its undo (SIGKILL, OOM, a bug) leaves behind what it owned, and the next
 * one can take it over or turn it off. Data and pure decisions only: where
 * the record is kept is the Host's business (`Host.ownership`, an
 * `OwnedStore`), keeping it current is the daemon's (daemon/ownership.ts).
 *
 * An entry is written before each prctl(100) with the intent ("enabling",
 * "disabling") and after it with the outcome ("on", or removed), so the
 * record is never behind the kernel: at worst it names a process whose call
 * did not happen, which the next waspd finds off and drops.
 */
import type { ProcessInfo, ProcessKey } from "./types.ts";
import { processKeyString } from "./types.ts";
import { decodeEntries, isRecord, parseJson } from "./json_guards.ts";
import {
  isInheritValue,
  isPid,
  isStartTime,
  isTextField,
  MAX_TEXT_FIELD,
} from "./kernel_values.ts";

/** More processes than waspd replicates at once: a longer record is not waspd's. */
export const MAX_OWNED = 4096;

export type OwnedState = "enabling" | "on" | "disabling";

export interface OwnedEntry extends ProcessKey {
  /** The name when waspd turned it on (for the operator reading the file). */
  name: string;
  state: OwnedState;
  /** Wall-clock ms when waspd asked for replication. */
  sinceMs: number;
  /** Why waspd turned it on (the policy's reason). */
  reason: string;
}

export interface OwnedRecord {
  /** The waspd that wrote the record. */
  ownerPid: number;
  entries: Map<string, OwnedEntry>;
  /**
   * Present while that waspd has written 0 to /proc/mitosis/inherit: the
   * value it found there, which the next waspd restores if it died first.
   */
  inheritFound?: number;
  /**
   * Present while that waspd has changed /proc/mitosis/mode (the `m` key):
   * the value it found there, which the next waspd restores if it died first.
   */
  modeFound?: number;
}

/** Where the record is kept: a file on a real host, memory or a file on the simulated one. */
export interface OwnedStore {
  /** For messages: a path, or "memory". */
  readonly where: string;
  /** The record left there, or null; a warning when a bad one was found (and set aside). */
  load(nowMs: number): { record: OwnedRecord | null; warning: string | null };
  /** Replace the record (atomically); throws when it cannot. */
  save(record: OwnedRecord): void;
  /** No record at all (nothing owned); throws when it cannot. */
  clear(): void;
  /**
   * Claim the record for this process (an enforcing daemon, for as long as it
   * runs): a lock, or a one-line reason naming the live waspd that holds it.
   * Absent: nothing to share (the record in memory). `create` false only
   * probes: nothing is created where no lock file exists yet. Throws
   * `LockUnusable` when the lock is no regular file (no waspd may start there).
   */
  claim?(create?: boolean): { release(): void } | string;
}

/**
 * The state directory's lock is something waspd cannot lock (a FIFO, a link,
 * a directory): a claim there would hang or hold nothing, so no waspd starts
 * on that directory until an operator removes it.
 */
export class LockUnusable extends Error {
  override readonly name = "LockUnusable";
}

/** The record in memory: the simulated machine without a state directory, and tests. */
export function memoryOwnedStore(): OwnedStore & { record: OwnedRecord | null } {
  return {
    where: "memory",
    record: null,
    load() {
      return { record: this.record, warning: null };
    },
    save(record) {
      this.record = { ...record, entries: new Map(record.entries) };
    },
    clear() {
      this.record = null;
    },
  };
}

interface OwnedFileJson {
  version: 1;
  owner_pid: number;
  /** The inherit value found before waspd wrote 0 (absent: waspd did not write it). */
  inherit_found?: number;
  /** The mode value found before waspd changed it (absent: waspd did not change it). */
  mode_found?: number;
  entries: {
    pid: number;
    start_time: number;
    name: string;
    state: OwnedState;
    since: string;
    reason: string;
  }[];
}

export function encodeOwned(record: OwnedRecord): string {
  const json: OwnedFileJson = {
    version: 1,
    owner_pid: record.ownerPid,
    ...(record.inheritFound === undefined ? {} : { inherit_found: record.inheritFound }),
    ...(record.modeFound === undefined ? {} : { mode_found: record.modeFound }),
    entries: [...record.entries.values()].sort((a, b) => a.pid - b.pid).map((e) => ({
      pid: e.pid,
      start_time: e.startTime,
      // Never longer than the reader accepts.
      name: e.name.slice(0, MAX_TEXT_FIELD),
      state: e.state,
      since: new Date(e.sinceMs).toISOString(),
      reason: e.reason.slice(0, MAX_TEXT_FIELD),
    })),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

const STATES: ReadonlySet<unknown> = new Set(["enabling", "on", "disabling"]);

/**
 * Decode owned.json, all or nothing; a reason never quotes the file. Every
 * value is one the kernel can hold (a pid below PID_MAX_LIMIT, inherit 1 or
 * -1): the next waspd acts on it as root.
 */
export function decodeOwned(
  text: string,
): { ok: true; value: OwnedRecord } | { ok: false; reason: string } {
  const json = parseJson(text);
  if (json === undefined) return { ok: false, reason: "not JSON" };
  if (!isRecord(json) || json.version !== 1 || !Array.isArray(json.entries)) {
    return { ok: false, reason: "not a version 1 ownership record" };
  }
  const ownerPid = json.owner_pid;
  if (ownerPid === undefined) return { ok: false, reason: "no owner_pid" };
  if (!isPid(ownerPid)) return { ok: false, reason: "owner_pid is not a process id" };
  const inheritFound = json.inherit_found;
  if (inheritFound !== undefined && !isInheritValue(inheritFound)) {
    return { ok: false, reason: "inherit_found is not a value inherit holds (1 or -1)" };
  }
  const modeFound = json.mode_found;
  if (modeFound !== undefined && !isModeValue(modeFound)) {
    return { ok: false, reason: "mode_found is not -1, 0 or 1" };
  }
  const decoded = decodeEntries(json.entries, MAX_OWNED, ownedEntryOf, processKeyString);
  if (!decoded.ok) return decoded;
  const entries = decoded.value;
  return {
    ok: true,
    value: {
      ownerPid,
      entries,
      ...(inheritFound === undefined ? {} : { inheritFound }),
      ...(modeFound === undefined ? {} : { modeFound }),
    },
  };
}

/** The values /proc/mitosis/mode takes (anything else the kernel refuses with EINVAL). */
function isModeValue(value: unknown): value is number {
  return value === -1 || value === 0 || value === 1;
}

function ownedEntryOf(raw: unknown): OwnedEntry | null {
  if (!isRecord(raw)) return null;
  const { pid, start_time: startTime, name, state, since, reason } = raw;
  const sinceMs = typeof since === "string" ? Date.parse(since) : Number.NaN;
  if (
    !isPid(pid) || !isStartTime(startTime) || !isTextField(name) || !STATES.has(state) ||
    !isTextField(reason) || !Number.isFinite(sinceMs)
  ) {
    return null;
  }
  return { pid, startTime, name, state: state as OwnedState, sinceMs, reason };
}

/** What the new waspd knows, at its start, about one recorded process. */
export interface OwnedFacts {
  /** The process with this pid + start time now; null when it has exited (or the pid was reused). */
  process: ProcessInfo | null;
  /** Listed in /proc/mitosis/active; null when that cannot be read. */
  replicated: boolean | null;
  /** The policy may manage it: not a kernel thread, not excluded by name, not waspd. */
  manageable: boolean;
  pinned: "on" | "off" | null;
}

export type OwnedAction =
  /** Still replicated and the policy has no objection: owned (and undone at exit) by this waspd. */
  | "adopt"
  /** Still replicated but the policy does not want it: turn it off now. */
  | "disable"
  /** Nothing left to own (exited, or already off): remove from the record. */
  | "drop"
  /** Cannot decide or act now (advisory mode, unknown kernel state): leave it in the record. */
  | "keep";

export interface OwnedVerdict {
  entry: OwnedEntry;
  action: OwnedAction;
  /** Why, for the event the daemon emits. */
  why: string;
}

/** Decide, for each entry a dead waspd left, what this one does with it. Pure. */
export function reconcileOwned(
  entries: Iterable<OwnedEntry>,
  factsOf: (entry: OwnedEntry) => OwnedFacts,
  enforcing: boolean,
): OwnedVerdict[] {
  return [...entries].map((entry) => {
    const facts = factsOf(entry);
    const verdict = (action: OwnedAction, why: string): OwnedVerdict => ({ entry, action, why });
    if (facts.process === null) return verdict("drop", "it has exited: nothing to undo");
    if (facts.replicated === false) return verdict("drop", "its replication is already off");
    if (facts.replicated === null) {
      return verdict("keep", "replication state unknown (/proc/mitosis/active unreadable)");
    }
    if (!enforcing) {
      return verdict("keep", "advisory mode cannot turn it off: left on and in the record");
    }
    if (facts.pinned === "off") return verdict("disable", "it is pinned off");
    if (!facts.manageable) {
      return verdict("disable", "the policy no longer manages it (excluded or a kernel thread)");
    }
    return verdict("adopt", "still replicated; the policy decides for it from now on");
  });
}
