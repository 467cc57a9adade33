/**
 * Crash-safe ownership: the daemon's record of the replication it turned on,
 * kept in a store that outlives it (owned.json in the state directory), and
 * the takeover a new daemon does at start when the previous one died without
 * its undo.
 *
 * The `OwnershipLedger` is the Actuator's `ReplicationObserver`: it writes
 * the intent before every prctl(100) and the outcome after it, synchronously,
 * so a SIGKILL at any point leaves a record no older than the kernel state.
 * A write that fails (read-only /run) is reported once and the daemon goes
 * on: the record protects against a crash, it must not cause an outage.
 */
import { errorMessage } from "../core/error_message.ts";
import type { EventKind } from "../core/events.ts";
import {
  LockUnusable,
  type OwnedEntry,
  type OwnedFacts,
  type OwnedStore,
  type OwnedVerdict,
  reconcileOwned,
} from "../core/ownership_record.ts";
import { type ActionResult, type ProcessKey, processKeyString } from "../core/types.ts";
import type { ManagedProcess } from "./managed.ts";

/** Told by the Actuator about each replication call it makes, around the call. */
export interface ReplicationObserver {
  /** Right before prctl(100): `on` = turning replication on. */
  before(target: ManagedProcess, on: boolean, reason: string): void;
  /** Right after it, with its result. */
  after(target: ManagedProcess, on: boolean, result: ActionResult): void;
  /** The process exited: its replicas went with it, nothing is owned any more. */
  forget(key: ProcessKey): void;
}

export type Report = (kind: EventKind, message: string, pid: number | null) => void;

export class OwnershipLedger implements ReplicationObserver {
  readonly #store: OwnedStore;
  readonly #selfPid: number;
  readonly #wallNow: () => number;
  readonly #report: Report;
  readonly #entries = new Map<string, OwnedEntry>();
  /** The cause of the last failed write (null: the last write succeeded). */
  #lastError: string | null = null;
  /** False once detached: a waspd that does not own the record never writes it. */
  #writes = true;
  /** The inherit value found, while this waspd has written 0 there. */
  #inheritFound: number | undefined = undefined;
  /** The mode value found, while this waspd has changed it. */
  #modeFound: number | undefined = undefined;
  #lock: { release(): void } | null = null;

  constructor(store: OwnedStore, selfPid: number, wallNow: () => number, report: Report) {
    this.#store = store;
    this.#selfPid = selfPid;
    this.#wallNow = wallNow;
    this.#report = report;
  }

  /** What this daemon owns now (for tests and the status line). */
  get entries(): ReadonlyMap<string, OwnedEntry> {
    return this.#entries;
  }

  /**
   * The enforcing daemon claims the record (one per state directory): null
   * when it holds it now, else why not (another waspd, alive, holds it).
   * `create` false only probes (see OwnedStore.claim).
   */
  claim(create = true): string | null {
    let lock: { release(): void } | string | null;
    try {
      lock = this.#store.claim?.(create) ?? null;
    } catch (error) {
      // No waspd may start on a directory whose lock cannot work, looking or enforcing.
      if (error instanceof LockUnusable) throw new RecordClaimed(error.message);
      throw error;
    }
    if (typeof lock === "string") return lock;
    this.#lock = lock;
    return null;
  }

  /** Never write the record (advisory mode, --once, or the record is another waspd's). */
  detach(): void {
    this.#writes = false;
  }

  /**
   * At shutdown: give up the claim (exit would too). Without the lock the
   * record is no longer this waspd's to write (a successor may hold it), so
   * a late answer arriving after this writes nothing.
   */
  release(): void {
    this.#writes = false;
    this.#lock?.release();
    this.#lock = null;
  }

  /**
   * At start: the record a previous waspd left (it died without its undo, or
   * left entries it could not handle). Its entries become this ledger's until
   * `settle` says what happens to each.
   */
  takeOver():
    | { ownerPid: number; entries: OwnedEntry[]; inheritFound?: number; modeFound?: number }
    | null {
    const { record, warning } = this.#store.load(this.#wallNow());
    if (warning !== null) this.#report("error", warning, null);
    if (record === null) return null;
    if (
      record.entries.size === 0 && record.inheritFound === undefined &&
      record.modeFound === undefined
    ) return null;
    for (const [key, entry] of record.entries) this.#entries.set(key, entry);
    this.#inheritFound = record.inheritFound;
    this.#modeFound = record.modeFound;
    return { ...record, entries: [...record.entries.values()] };
  }

  /**
   * This waspd wrote 0 to inherit, having found `found` (on record until it
   * is restored), or put the found value back (null: off the record).
   */
  inheritWritten(found: number | null): void {
    this.#inheritFound = found ?? undefined;
    this.save();
  }

  /**
   * This waspd is about to change the mode, having found `found` (on record
   * until it is restored), or put the found value back (null: off the record).
   */
  modeWritten(found: number | null): void {
    this.#modeFound = found ?? undefined;
    this.save();
  }

  /** An adopted entry: on, and this waspd's from now on. */
  adopted(key: ProcessKey): void {
    const k = processKeyString(key);
    const known = this.#entries.get(k);
    if (known !== undefined) this.#entries.set(k, { ...known, state: "on" });
  }

  before(target: ManagedProcess, on: boolean, reason: string): void {
    const key = processKeyString(target);
    const known = this.#entries.get(key);
    if (on) {
      if (known?.state === "on") return;
      this.#entries.set(key, {
        pid: target.pid,
        startTime: target.startTime,
        name: target.name,
        state: "enabling",
        sinceMs: this.#wallNow(),
        reason,
      });
    } else {
      // Turning off what waspd does not own (pinned off by hand): nothing to record.
      if (known === undefined) return;
      this.#entries.set(key, { ...known, state: "disabling" });
    }
    this.save();
  }

  after(target: ManagedProcess, on: boolean, result: ActionResult): void {
    const key = processKeyString(target);
    const known = this.#entries.get(key);
    if (known === undefined) return;
    // A call past its deadline, or given up on before it began, may still
    // complete (`late`): keep the intent; its late answer, or the next waspd, settles it.
    if (!result.ok && (result.stuck || result.late !== undefined)) return;
    if (on && result.ok) this.#entries.set(key, { ...known, state: "on" });
    else if (on) this.#entries.delete(key); // failed (EALREADY: someone else's replication)
    else if (result.ok) this.#entries.delete(key);
    else this.#entries.set(key, { ...known, state: "on" }); // still on
    this.save();
  }

  /** The process exited (or nothing is left to own for it): off the record. */
  forget(key: ProcessKey): void {
    if (this.#entries.delete(processKeyString(key))) this.save();
  }

  /** Write the record as it stands (after a takeover, so it names this waspd). */
  save(): void {
    if (!this.#writes) return;
    try {
      const inheritFound = this.#inheritFound;
      const modeFound = this.#modeFound;
      if (this.#entries.size === 0 && inheritFound === undefined && modeFound === undefined) {
        this.#store.clear();
      } else {
        this.#store.save({
          ownerPid: this.#selfPid,
          entries: this.#entries,
          ...(inheritFound === undefined ? {} : { inheritFound }),
          ...(modeFound === undefined ? {} : { modeFound }),
        });
      }
      this.#lastError = null;
    } catch (error) {
      // Once per cause (errno, or kind) until a write succeeds: a read-only
      // /run fails the same way on every call.
      const code = (error as { code?: unknown }).code;
      const cause = typeof code === "string" ? code : errorMessage(error);
      if (cause === this.#lastError) return;
      this.#lastError = cause;
      this.#report(
        "error",
        `ownership record ${this.#store.where}: cannot write it (${errorMessage(error)}); ` +
          "if waspd dies without its undo, the next one will not know what it turned on",
        null,
      );
    }
  }
}

/** What the daemon can tell about a process at start, and how it acts on a verdict. */
export interface TakeoverDeps {
  ledger: OwnershipLedger;
  /** The process with this pid + start time, or null. */
  confirm(key: ProcessKey): Promise<OwnedFacts["process"]>;
  /** Whether /proc/mitosis/active lists `pid` (null: unknown). */
  replicated(pid: number): boolean | null;
  manageable(process: NonNullable<OwnedFacts["process"]>): boolean;
  pinned(key: ProcessKey): "on" | "off" | null;
  enforcing: boolean;
  /**
   * This daemon enforces for as long as it runs (not --once): it claims the
   * record, and refuses to start when another live waspd holds it. Default true.
   */
  claims?: boolean;
  /** Own it from now on (the undo at exit turns it off). */
  adopt(target: ManagedProcess): void;
  /** Turn it off now (through the Actuator: confirmed, bounded, recorded). */
  disable(target: ManagedProcess, reason: string): void;
  report: Report;
  /** How a process is named in events (the Actuator's `label`). */
  label(target: ManagedProcess): string;
  /**
   * Put back the inherit value a dead waspd found before it wrote 0 (it died
   * without restoring it); true when written.
   */
  restoreInherit?(found: number): Promise<boolean>;
  /**
   * Put back the mode value a dead waspd found before it changed the mode
   * (it died without restoring it); true when written.
   */
  restoreMode?(found: number): Promise<boolean>;
}

/**
 * At start: take over the record a previous waspd left, check each entry
 * against the process table and /proc/mitosis/active, and adopt it, turn it
 * off, or drop it; one event per entry says which. Returns the verdicts.
 */
/**
 * A live waspd enforces with this state directory, or its lock is unusable:
 * this one refuses to start (exit 2).
 */
export class RecordClaimed extends Error {
  override readonly name = "RecordClaimed";
}

/**
 * Who may take the record over: an enforcing daemon (not --once) claims it,
 * and throws, with the one line to show, when a live waspd holds it. Advisory
 * mode and --once only look: the ledger never writes; false when a live
 * waspd owns the record (nothing of it is to be touched). Once per ledger:
 * its answer is what takeOverOwnership is given.
 */
export function claimOwnership(
  deps: Pick<TakeoverDeps, "ledger" | "enforcing" | "claims" | "report">,
): boolean {
  const ledger = deps.ledger;
  if ((deps.claims ?? true) && deps.enforcing) {
    const refused = ledger.claim();
    if (refused === null) return true;
    ledger.detach();
    throw new RecordClaimed(refused);
  }
  // The record (and what it names) is left to the waspd that enforces, or to
  // the next one that will.
  ledger.detach();
  const probe = ledger.claim(false);
  ledger.release();
  if (probe === null) return true;
  deps.report("info", `ownership: ${probe.replace(/: stop it.*$/, "")}; left to it`, null);
  return false;
}

/**
 * Take over what the record names; `free` is claimOwnership's answer (made
 * here when the caller has not asked it yet).
 */
export async function takeOverOwnership(
  deps: TakeoverDeps,
  free: boolean = claimOwnership(deps),
): Promise<OwnedVerdict[]> {
  const ledger = deps.ledger;
  const claims = deps.claims ?? true;
  if (!free) return [];
  const previous = ledger.takeOver();
  if (previous === null) return [];
  const processes = new Map(
    await Promise.all(
      previous.entries.map(async (e) => [processKeyString(e), await deps.confirm(e)] as const),
    ),
  );
  const verdicts = reconcileOwned(previous.entries, (entry) => {
    const process = processes.get(processKeyString(entry)) ?? null;
    return {
      process,
      replicated: deps.replicated(entry.pid),
      manageable: process !== null && deps.manageable(process),
      pinned: deps.pinned(entry),
    };
  }, deps.enforcing && claims);
  // It held no lock any more (or none was needed): it is gone, without its undo.
  const from = `turned on by waspd pid ${previous.ownerPid}, which exited without its undo`;
  for (const { entry, action, why } of verdicts) {
    const name = processes.get(processKeyString(entry))?.name ?? entry.name;
    const target = { pid: entry.pid, startTime: entry.startTime, name };
    const label = deps.label(target);
    switch (action) {
      case "adopt":
        ledger.adopted(entry);
        deps.adopt(target);
        deps.report("info", `ownership: adopted ${label} (${from}): ${why}`, entry.pid);
        break;
      case "disable":
        deps.report("info", `ownership: turning off ${label} (${from}): ${why}`, entry.pid);
        deps.disable(target, `${from}; ${why}`);
        break;
      case "drop":
        ledger.forget(entry);
        deps.report("info", `ownership: forgot ${label} (${from}): ${why}`, entry.pid);
        break;
      case "keep":
        deps.report("info", `ownership: kept ${label} in the record (${from}): ${why}`, entry.pid);
        break;
    }
  }
  // The Mitosis settings the previous waspd changed and never put back: each
  // is restored to the value it found, then forgotten from the record.
  const settings = [
    {
      kind: "inherit",
      found: previous.inheritFound,
      restore: deps.restoreInherit,
      change: "written 0",
      forget: () => ledger.inheritWritten(null),
    },
    {
      kind: "mode",
      found: previous.modeFound,
      restore: deps.restoreMode,
      change: "changed",
      forget: () => ledger.modeWritten(null),
    },
  ] as const;
  for (const setting of settings) {
    const found = setting.found;
    if (found === undefined || !deps.enforcing || !claims) continue;
    const ok = (await setting.restore?.(found)) ?? false;
    deps.report(
      ok ? setting.kind : "error",
      `ownership: /proc/mitosis/${setting.kind} ${
        ok ? "restored" : "could not be restored"
      } to ${found} ` +
        `(${setting.change} by waspd pid ${previous.ownerPid}, which exited without its undo)`,
      null,
    );
    if (ok) setting.forget();
  }
  ledger.save();
  return verdicts;
}
