/**
 * The standard `process_*` series every Prometheus exporter gives about
 * itself (CPU, resident memory, open fds, start time), so waspd's own cost
 * shows on the same dashboards as any other exporter's. Read from /proc/self
 * at scrape time, as the Go client library does; a figure that cannot be read
 * is left out (absent = unknown), never exported as 0.
 */
import type { Family } from "./exposition.ts";

/** USER_HZ: /proc reports CPU times and start times in these ticks (fixed at 100 on Linux). */
const USER_HZ = 100;
/** x86-64 base page: RSS in stat is counted in these (waspd is x86-64 only). */
const PAGE_BYTES = 4096;

export interface SelfStats {
  cpuSeconds: number | null;
  residentBytes: number | null;
  openFds: number | null;
  startTimeSeconds: number | null;
}

/** Fields 14 (utime), 15 (stime), 22 (starttime) and 24 (rss) of /proc/self/stat, or null. */
export function parseSelfStat(
  text: string,
): { cpuTicks: number; startTicks: number; rssPages: number } | null {
  // The comm may hold spaces and parentheses: the fields start after the last ')'.
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  // Field 3 is the first after the comm, so field n is at index n - 3.
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const field = (n: number) => {
    const v = Number(fields[n - 3]);
    return Number.isSafeInteger(v) && v >= 0 ? v : null;
  };
  const [utime, stime, start, rss] = [field(14), field(15), field(22), field(24)];
  if (utime === null || stime === null || start === null || rss === null) return null;
  return { cpuTicks: utime + stime, startTicks: start, rssPages: rss };
}

/** The boot time (`btime`, seconds since the epoch) from /proc/stat, or null. */
export function parseBootTime(text: string): number | null {
  const m = /^btime\s+(\d+)\s*$/m.exec(text);
  return m === null ? null : Number(m[1]);
}

/** The four figures from the texts of /proc/self/stat and /proc/stat and a count of fds. */
export function selfStatsOf(
  stat: string | null,
  procStat: string | null,
  openFds: number | null,
): SelfStats {
  const s = stat === null ? null : parseSelfStat(stat);
  const boot = procStat === null ? null : parseBootTime(procStat);
  return {
    cpuSeconds: s === null ? null : s.cpuTicks / USER_HZ,
    residentBytes: s === null ? null : s.rssPages * PAGE_BYTES,
    openFds,
    startTimeSeconds: s === null || boot === null ? null : boot + s.startTicks / USER_HZ,
  };
}

export function selfFamilies(s: Readonly<SelfStats>): Family[] {
  const one = (v: number | null) => v === null ? [] : [{ value: v }];
  return [
    {
      name: "process_cpu_seconds_total",
      type: "counter",
      help: "Total user and system CPU time spent in seconds.",
      samples: one(s.cpuSeconds),
    },
    {
      name: "process_resident_memory_bytes",
      type: "gauge",
      help: "Resident memory size in bytes.",
      samples: one(s.residentBytes),
    },
    {
      name: "process_open_fds",
      type: "gauge",
      help: "Number of open file descriptors.",
      samples: one(s.openFds),
    },
    {
      name: "process_start_time_seconds",
      type: "gauge",
      help: "Start time of the process since unix epoch in seconds.",
      samples: one(s.startTimeSeconds),
    },
  ];
}

function readOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

function countFds(): number | null {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    // The directory handle reading it is one of them while it is read.
    return Math.max(0, n - 1);
  } catch {
    return null;
  }
}

/** The boot time never changes: /proc/stat (one line per CPU) is read once. */
let bootStat: string | null | undefined;

/** This process's figures now: /proc/self/stat and a count of /proc/self/fd. */
export function readSelfStats(): SelfStats {
  if (bootStat === undefined) {
    const text = readOrNull("/proc/stat");
    const boot = text === null ? null : parseBootTime(text);
    bootStat = boot === null ? null : `btime ${boot}`;
  }
  return selfStatsOf(readOrNull("/proc/self/stat"), bootStat, countFds());
}
