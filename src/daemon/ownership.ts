/**
 * The one owner of what waspd changed: which processes it turned replication
 * on for, and the inherit and mode values it found before it changed them.
 * Everything that acts on the kernel tells it (intend, settle, forget,
 * adopted; changing, changed, putBack) and asks it (owned, owns, toPutBack);
 * no one keeps a copy. It keeps the record in a store that outlives the
 * process (owned.json in the state directory), written synchronously before
 * and after every change, so a SIGKILL at any point leaves a record no older
 * than the kernel state; the takeover (takeover.ts) reads it at the next start.
 * A write that fails (read-only /run) is reported once and the daemon goes
 * on: the record protects against a crash, it must not cause an outage.
 */
import { errorMessage } from "../core/error_message.ts";
import type { EventKind } from "../core/events.ts";
import {
  LockUnusable,
  type OwnedEntry,
  type OwnedRecord,
  type OwnedStore,
} from "../core/ownership_record.ts";
import {
  type ActionResult,
  type ManagedProcess,
  type ProcessKey,
  processKeyString,
} from "../core/types.ts";

export type Report = (kind: EventKind, message: string, pid: number | null) => void;

/** The /proc/mitosis files whose found value waspd puts back. */
export type Setting = "inherit" | "mode";

interface Held {
  entry: OwnedEntry;
  /** Set once a call of this waspd's settled, or it adopted it: undone at exit. */
  mine: ManagedProcess | null;
}

interface Found {
  value: number;
  /**
   * "left": on a dead waspd's record, put back by the takeover; "changing":
   * this waspd's first write is under way; "changed": this waspd changed it.
   */
  by: "left" | "changing" | "changed";
}

/**
 * A live waspd enforces with this state directory, or its lock is unusable:
 * this one refuses to start (exit 2).
 */
export class RecordClaimed extends Error {
  override readonly name = "RecordClaimed";
}

export class Ownership {
  readonly #store: OwnedStore;
  readonly #selfPid: number;
  readonly #wallNow: () => number;
  readonly #report: Report;
  readonly #held = new Map<string, Held>();
  readonly #found = new Map<Setting, Found>();
  /** The cause of the last failed write (null: the last write succeeded). */
  #lastError: string | null = null;
  /** False once detached: a waspd that does not own the record never writes it. */
  #writes = true;
  #lock: { release(): void } | null = null;

  constructor(store: OwnedStore, selfPid: number, wallNow: () => number, report: Report) {
    this.#store = store;
    this.#selfPid = selfPid;
    this.#wallNow = wallNow;
    this.#report = report;
  }

  // ------------------------------------------------------------------ asked

  /** What waspd turned on (or adopted) and undoes at exit. */
  owned(): ManagedProcess[] {
    return [...this.#held.values()].flatMap((h) => (h.mine === null ? [] : [h.mine]));
  }

  /** Whether waspd owns the replication of the process with this key (its text). */
  owns(key: string): boolean {
    return (this.#held.get(key)?.mine ?? null) !== null;
  }

  /** Every entry on record now, owned or not yet settled (the status line, tests). */
  get entries(): ReadonlyMap<string, OwnedEntry> {
    return this.#entries();
  }

  /** The value waspd found in `setting` and changed, to put back at exit; else undefined. */
  toPutBack(setting: Setting): number | undefined {
    const found = this.#found.get(setting);
    return found?.by === "changed" ? found.value : undefined;
  }

  // ------------------------------------------------------------------ told

  /** Right before prctl(100): `on` = turning replication on, for `reason`. */
  intend(target: ManagedProcess, on: boolean, reason: string): void {
    const key = processKeyString(target);
    const known = this.#held.get(key);
    if (on) {
      if (known?.entry.state === "on") return;
      const entry: OwnedEntry = {
        pid: target.pid,
        startTime: target.startTime,
        name: target.name,
        state: "enabling",
        sinceMs: this.#wallNow(),
        reason,
      };
      this.#held.set(key, { entry, mine: known?.mine ?? null });
    } else {
      // Turning off what waspd does not own (pinned off by hand): nothing to record.
      if (known === undefined) return;
      known.entry = { ...known.entry, state: "disabling" };
    }
    this.save();
  }

  /**
   * Right after it, with its result (or a late answer's, as the kernel's
   * list reads it). What is still on after a settled call is waspd's.
   */
  settle(target: ManagedProcess, on: boolean, result: ActionResult): void {
    const key = processKeyString(target);
    const known = this.#held.get(key);
    if (known === undefined) return;
    // A call past its deadline, or given up on before it began (`late`), may
    // still complete: the intent stays; its late answer, or the next waspd, settles it.
    if (!result.ok && (result.stuck || result.late !== undefined)) return;
    // A failed enable (EALREADY: someone else's replication) or a done disable: not waspd's.
    if (on !== result.ok) this.#held.delete(key);
    else {
      known.entry = { ...known.entry, state: "on" };
      known.mine = known.mine ?? target;
    }
    this.save();
  }

  /** The process exited (or nothing is left to own for it): off the record. */
  forget(key: ProcessKey): void {
    if (this.#held.delete(processKeyString(key))) this.save();
  }

  /** An entry a dead waspd left, still on: this waspd's from now on (undone at exit). */
  adopted(target: ManagedProcess): void {
    const known = this.#held.get(processKeyString(target));
    if (known === undefined) return;
    known.entry = { ...known.entry, state: "on" };
    known.mine = target;
  }

  /** Right before a write that changes `setting`, found holding `found`: on record first. */
  changing(setting: Setting, found: number): void {
    if (this.#found.has(setting)) return;
    this.#found.set(setting, { value: found, by: "changing" });
    this.save();
  }

  /** Right after that write: done, it is waspd's to put back; failed, its intent is taken back. */
  changed(setting: Setting, ok: boolean): void {
    const found = this.#found.get(setting);
    if (found === undefined) return;
    if (ok) found.by = "changed";
    else if (found.by === "changing") this.putBack(setting);
  }

  /** `setting` holds its found value again: off the record. */
  putBack(setting: Setting): void {
    if (this.#found.delete(setting)) this.save();
  }

  // -------------------------------------------------------------- the record

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
   * left entries it could not handle), or null. Its entries and found values
   * are held here, none of them this waspd's, until the takeover says what
   * becomes of each.
   */
  takeOver(): OwnedRecord | null {
    const { record, warning } = this.#store.load(this.#wallNow());
    if (warning !== null) this.#report("error", warning, null);
    if (record === null) return null;
    const left = { inherit: record.inheritFound, mode: record.modeFound };
    if (record.entries.size === 0 && left.inherit === undefined && left.mode === undefined) {
      return null;
    }
    for (const [key, entry] of record.entries) this.#held.set(key, { entry, mine: null });
    for (const setting of ["inherit", "mode"] as const) {
      const value = left[setting];
      if (value !== undefined) this.#found.set(setting, { value, by: "left" });
    }
    return record;
  }

  #entries(): Map<string, OwnedEntry> {
    return new Map([...this.#held].map(([key, h]) => [key, h.entry]));
  }

  /** Write the record as it stands (after a takeover, so it names this waspd). */
  save(): void {
    if (!this.#writes) return;
    try {
      const inheritFound = this.#found.get("inherit")?.value;
      const modeFound = this.#found.get("mode")?.value;
      if (this.#held.size === 0 && inheritFound === undefined && modeFound === undefined) {
        this.#store.clear();
      } else {
        this.#store.save({
          ownerPid: this.#selfPid,
          entries: this.#entries(),
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
