/**
 * Which discovered processes waspd may manage: pure policy over the process
 * list (the Host reports everything; filtering is decided here).
 */
import type { ProcessInfo } from "./types.ts";

/** Z = zombie, X = dead: no address space left to replicate. */
const DEAD_STATES: ReadonlySet<string> = new Set(["Z", "X", "x"]);

export interface ManageableSelection {
  managed: ProcessInfo[];
  /** How many processes were dropped (kernel threads, dead, waspd, excluded names). */
  excluded: number;
}

/**
 * Drop kernel threads, zombies and dead tasks, waspd itself (`selfPid`) and
 * every process whose name `isExcludedName` rejects (the configured system
 * daemons, shells, editors, ...). Order is kept.
 */
export function selectManageable(
  processes: readonly ProcessInfo[],
  isExcludedName: (name: string) => boolean,
  selfPid: number,
): ManageableSelection {
  const managed = processes.filter((process) =>
    !process.kernelThread &&
    !DEAD_STATES.has(process.state) &&
    process.pid !== selfPid &&
    !isExcludedName(process.name)
  );
  return { managed, excluded: processes.length - managed.length };
}
