/**
 * The takeover a new daemon does at start when the previous one died without
 * its undo: it claims the ownership record, checks each entry against the
 * process table and /proc/mitosis/active (core/ownership_record.ts decides),
 * tells the Ownership what became of each, and puts back the inherit and
 * mode values the dead waspd changed.
 */
import type { OwnedFacts, OwnedVerdict } from "../core/ownership_record.ts";
import { reconcileOwned } from "../core/ownership_record.ts";
import { type ManagedProcess, type ProcessKey, processKeyString } from "../core/types.ts";
import { type Ownership, RecordClaimed, type Report } from "./ownership.ts";

/** What the daemon can tell about a process at start, and how it acts on a verdict. */
export interface TakeoverDeps {
  ownership: Ownership;
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
 * Who may take the record over: an enforcing daemon (not --once) claims it,
 * and throws, with the one line to show, when a live waspd holds it. Advisory
 * mode and --once only look: the record is never written; false when a live
 * waspd owns the record (nothing of it is to be touched). Once per Ownership:
 * its answer is what takeOverOwnership is given.
 */
export function claimOwnership(
  deps: Pick<TakeoverDeps, "ownership" | "enforcing" | "claims" | "report">,
): boolean {
  const ownership = deps.ownership;
  if ((deps.claims ?? true) && deps.enforcing) {
    const refused = ownership.claim();
    if (refused === null) return true;
    ownership.detach();
    throw new RecordClaimed(refused);
  }
  // The record (and what it names) is left to the waspd that enforces, or to
  // the next one that will.
  ownership.detach();
  const probe = ownership.claim(false);
  ownership.release();
  if (probe === null) return true;
  deps.report("info", `ownership: ${probe.replace(/: stop it.*$/, "")}; left to it`, null);
  return false;
}

/**
 * Take over what the record names, one event per entry saying whether it is
 * adopted, turned off, forgotten or kept; `free` is claimOwnership's answer
 * (made here when the caller has not asked it yet). Returns the verdicts.
 */
export async function takeOverOwnership(
  deps: TakeoverDeps,
  free: boolean = claimOwnership(deps),
): Promise<OwnedVerdict[]> {
  const ownership = deps.ownership;
  const acts = deps.enforcing && (deps.claims ?? true);
  if (!free) return [];
  const previous = ownership.takeOver();
  if (previous === null) return [];
  const entries = [...previous.entries.values()];
  const processes = new Map(
    await Promise.all(
      entries.map(async (e) => [processKeyString(e), await deps.confirm(e)] as const),
    ),
  );
  const verdicts = reconcileOwned(entries, (entry) => {
    const process = processes.get(processKeyString(entry)) ?? null;
    return {
      process,
      replicated: deps.replicated(entry.pid),
      manageable: process !== null && deps.manageable(process),
      pinned: deps.pinned(entry),
    };
  }, acts);
  // It held no lock any more (or none was needed): it is gone, without its undo.
  const from = `turned on by waspd pid ${previous.ownerPid}, which exited without its undo`;
  for (const { entry, action, why } of verdicts) {
    const name = processes.get(processKeyString(entry))?.name ?? entry.name;
    const target = { pid: entry.pid, startTime: entry.startTime, name };
    const label = deps.label(target);
    const say = (what: string) => deps.report("info", `ownership: ${what}: ${why}`, entry.pid);
    switch (action) {
      case "adopt":
        ownership.adopted(target);
        say(`adopted ${label} (${from})`);
        break;
      case "disable":
        say(`turning off ${label} (${from})`);
        deps.disable(target, `${from}; ${why}`);
        break;
      case "drop":
        ownership.forget(entry);
        say(`forgot ${label} (${from})`);
        break;
      case "keep":
        say(`kept ${label} in the record (${from})`);
        break;
    }
  }
  if (acts) await putBackSettings(deps, previous);
  ownership.save();
  return verdicts;
}

/**
 * The Mitosis settings the previous waspd changed and never put back: each
 * is restored to the value it found, then off the record.
 */
async function putBackSettings(
  deps: TakeoverDeps,
  previous: { ownerPid: number; inheritFound?: number; modeFound?: number },
): Promise<void> {
  const settings = [
    {
      kind: "inherit",
      found: previous.inheritFound,
      restore: deps.restoreInherit,
      change: "written 0",
    },
    { kind: "mode", found: previous.modeFound, restore: deps.restoreMode, change: "changed" },
  ] as const;
  for (const { kind, found, restore, change } of settings) {
    if (found === undefined) continue;
    const ok = (await restore?.(found)) ?? false;
    deps.report(
      ok ? kind : "error",
      `ownership: /proc/mitosis/${kind} ${ok ? "restored" : "could not be restored"} to ${found} ` +
        `(${change} by waspd pid ${previous.ownerPid}, which exited without its undo)`,
      null,
    );
    if (ok) deps.ownership.putBack(kind);
  }
}
