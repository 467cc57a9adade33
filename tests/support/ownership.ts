/**
 * Fixtures for the ownership tests: a recorded entry, the process it names,
 * and takeover dependencies that adopt what the record says unless told
 * otherwise.
 */
import type { OwnedEntry } from "../../src/core/ownership_record.ts";
import type { ProcessInfo } from "../../src/core/types.ts";
import type { OwnershipLedger, TakeoverDeps } from "../../src/daemon/ownership.ts";

export const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

/** pid N started at N * 10, named pN. */
export function ownedEntry(pid: number, state: OwnedEntry["state"]): OwnedEntry {
  return { pid, startTime: pid * 10, name: `p${pid}`, state, sinceMs: T0, reason: "r" };
}

const RUNNING = { state: "R", ppid: 1, uid: 0, threads: 1, rssKb: 1000 } as const;
const NO_FAULTS = { minorFaults: 0, majorFaults: 0, kernelThread: false } as const;

/** The live process an `ownedEntry(pid)` names. */
export function liveProcess(pid: number): ProcessInfo {
  return { pid, startTime: pid * 10, name: `p${pid}`, ...RUNNING, ...NO_FAULTS };
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
    confirm: (key) => Promise.resolve(liveProcess(key.pid)),
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

/** Run `fn` in a fresh temporary directory, removed afterwards. */
export async function inTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = Deno.makeTempDirSync({ prefix: "waspd-owned-" });
  try {
    return await fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
