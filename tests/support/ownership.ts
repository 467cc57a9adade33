/**
 * Fixtures for the ownership tests: a recorded entry, the process it names,
 * and takeover dependencies that adopt what the record says unless told
 * otherwise.
 */
import { memoryOwnedStore, type OwnedEntry } from "../../src/core/ownership_record.ts";
import { EventLog } from "../../src/core/events.ts";
import { MitosisOperations } from "../../src/daemon/operations.ts";
import { Ownership } from "../../src/daemon/ownership.ts";
import { type TakeoverDeps, takeOverOwnership } from "../../src/daemon/takeover.ts";
import { processInfo } from "./process_info.ts";

export const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

/** pid N started at N * 10, named pN. */
export function ownedEntry(pid: number, state: OwnedEntry["state"]): OwnedEntry {
  return { pid, startTime: pid * 10, name: `p${pid}`, state, sinceMs: T0, reason: "r" };
}

/** An Ownership kept in memory, reporting nothing: for parts that need one and a test that does not look. */
export function memoryOwnership(pid = 500): Ownership {
  return new Ownership(memoryOwnedStore(), pid, () => T0, () => {});
}

/** Every recorded process alive, replicated and manageable; events to `reports`. */
export function takeoverDeps(
  ownership: Ownership,
  reports: string[],
  over: Partial<TakeoverDeps> = {},
): TakeoverDeps {
  const nothing = () => {};
  return {
    ownership,
    enforcing: true,
    confirm: (key) => Promise.resolve(processInfo(key.pid)),
    label: (t) => `pid ${t.pid} (${t.name})`,
    replicated: () => true,
    report: (kind, message) => void reports.push(`${kind}: ${message}`),
    manageable: () => true,
    pinned: () => null,
    disable: nothing,
    ...over,
  };
}

/**
 * One waspd as far as the Mitosis settings go, on `control` with its record
 * in `store`: its Ownership, its operations (found values put on record before
 * they are changed) and its takeover, with `deps(ops)` on top of
 * takeoverDeps; what it reports is kept in `reports`. `free` is the claim's
 * answer given to the takeover (absent: it claims as the daemon does).
 */
export function settingsWaspd(
  control: ConstructorParameters<typeof MitosisOperations>[0],
  store: ConstructorParameters<typeof Ownership>[0],
  pid: number,
  options: {
    enforcing?: boolean;
    free?: boolean;
    deps: (ops: MitosisOperations) => Partial<TakeoverDeps>;
  },
) {
  const enforcing = options.enforcing ?? true;
  const reports: string[] = [];
  const ownership = new Ownership(store, pid, () => 0, (kind, message) => {
    reports.push(`${kind}: ${message}`);
  });
  const ops = new MitosisOperations(control, new EventLog(() => 0), enforcing, ownership);
  const deps = takeoverDeps(ownership, reports, {
    confirm: () => Promise.resolve(null),
    enforcing,
    ...options.deps(ops),
  });
  const takeOver = () =>
    options.free === undefined ? takeOverOwnership(deps) : takeOverOwnership(deps, options.free);
  return { ownership, ops, reports, takeOver };
}
