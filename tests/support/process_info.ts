/** ProcessInfo for tests: one factory, so a new field is added in one place. */
import { type ProcessInfo, processKeyString } from "../../src/core/types.ts";

/**
 * A plain running user process `pid` (start time pid*10, name p<pid>, one
 * thread, 1000 KiB, no faults), with `over` on top.
 */
export function processInfo(pid: number, over: Partial<ProcessInfo> = {}): ProcessInfo {
  const startTime = over.startTime ?? pid * 10;
  return {
    pid,
    startTime,
    id: processKeyString({ pid: over.pid ?? pid, startTime }),
    name: `p${pid}`,
    state: "R",
    ppid: 1,
    uid: 0,
    threads: 1,
    rssKb: 1000,
    minorFaults: 0,
    majorFaults: 0,
    kernelThread: false,
    ...over,
  };
}
