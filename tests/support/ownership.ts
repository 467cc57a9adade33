/**
 * Fixtures for the ownership tests: a recorded entry, the process it names,
 * and takeover dependencies that adopt what the record says unless told
 * otherwise.
 */
import type { OwnedEntry } from "../../src/core/ownership_record.ts";
import type { OwnershipLedger, TakeoverDeps } from "../../src/daemon/ownership.ts";
import { processInfo } from "./process_info.ts";

export const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

/** pid N started at N * 10, named pN. */
export function ownedEntry(pid: number, state: OwnedEntry["state"]): OwnedEntry {
  return { pid, startTime: pid * 10, name: `p${pid}`, state, sinceMs: T0, reason: "r" };
}

/** Every recorded process alive, replicated and manageable; events to `reports`. */
export function takeoverDeps(
  ledger: OwnershipLedger,
  reports: string[],
  over: Partial<TakeoverDeps> = {},
): TakeoverDeps {
  const nothing = () => {};
  return {
    ledger,
    enforcing: true,
    confirm: (key) => Promise.resolve(processInfo(key.pid)),
    label: (t) => `pid ${t.pid} (${t.name})`,
    replicated: () => true,
    report: (kind, message) => void reports.push(`${kind}: ${message}`),
    manageable: () => true,
    adopt: nothing,
    pinned: () => null,
    disable: nothing,
    ...over,
  };
}
