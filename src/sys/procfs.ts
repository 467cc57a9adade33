/**
 * Process discovery from /proc (under a configurable root for fixture tests).
 *
 * This runs every tick over possibly thousands of processes, so each process
 * costs one read (stat) and one stat(2) of its directory for the owner uid:
 * generating /proc/PID/status is the expensive part of a scan (measured here
 * with 1 100 processes, median of 21 scans: stat+status 139 ms, stat + owner 83 ms).
 * Reads are synchronous: one async op per file costs a promise and a hop to
 * the blocking thread pool, which made a 2 000-process scan cost more CPU than
 * `ps -e` (bench/tick_bench.ts); a synchronous read is a plain syscall. Each
 * file is closed before the next opens, so the scan never holds more than one
 * fd (the counters share the fd budget).
 *
 * Processes come and go while we read: one that vanishes between readdir and
 * read is skipped silently (that is normal), while a stat that does not parse
 * is skipped and reported in `ProcessScan.malformed` (that is not).
 */
import type { ProcessInfo, ProcessKey } from "../core/types.ts";
import type { OwnerCache } from "./owner_cache.ts";
import { readSmallTextOrGone } from "./small_read.ts";
import { errorMessage } from "../core/error_message.ts";

/** PF_KTHREAD in the stat flags (include/linux/sched.h). */
export const PF_KTHREAD = 0x00200000;
/** pid of kthreadd: every kernel thread is its child. */
const KTHREADD_PID = 2;
/** x86-64 base page: RSS in stat is counted in these (waspd is x86-64 only). */
const PAGE_KB = 4;

/** The fields of /proc/PID/stat waspd uses. */
export interface ParsedStat {
  pid: number;
  name: string;
  state: string;
  ppid: number;
  flags: number;
  minorFaults: number;
  majorFaults: number;
  threads: number;
  startTime: number;
  rssPages: number;
}

/** Fields counted from 1 as in proc(5); index into the fields after the comm. */
const AFTER_COMM_FIRST_FIELD = 3;
const FIELD = {
  state: 3,
  ppid: 4,
  flags: 9,
  minflt: 10,
  majflt: 12,
  numThreads: 20,
  startTime: 22,
  rss: 24,
} as const;
/** The last field waspd reads: the fields after it are never cut out. */
const LAST_FIELD = Math.max(...Object.values(FIELD));

/** ASCII whitespace, as the kernel separates stat fields (and as /\s+/ would). */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/**
 * The whitespace-separated fields of `text` from `from`, up to field `last`
 * (numbered as in proc(5), the first after the comm being field 3). Only the
 * fields waspd reads are cut out: splitting all 52 of 2000 processes every
 * tick made a hundred thousand strings for the collector.
 */
function fieldsAfterComm(text: string, from: number, last: number): string[] {
  const out: string[] = [];
  const wanted = last - AFTER_COMM_FIRST_FIELD + 1;
  let i = from;
  while (out.length < wanted) {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
    if (i >= text.length) break;
    const start = i;
    while (i < text.length && !isSpace(text.charCodeAt(i))) i++;
    out.push(text.slice(start, i));
  }
  return out;
}

/**
 * Parse /proc/PID/stat. The comm sits between the first "(" and the LAST ")":
 * a name may itself hold spaces, parentheses, newlines or escape bytes, so
 * splitting the whole line on spaces would misread every later field.
 * Returns null when the text is empty, truncated or not numeric where it must be.
 */
export function parseStat(text: string): ParsedStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open <= 0 || close < open) return null;
  const pidText = text.slice(0, open).trim();
  if (!/^\d+$/.test(pidText)) return null;
  const rest = fieldsAfterComm(text, close + 1, LAST_FIELD);
  const field = (n: number): string | undefined => rest[n - AFTER_COMM_FIRST_FIELD];
  const integer = (n: number): number | null => {
    const raw = field(n);
    return raw !== undefined && /^-?\d+$/.test(raw) ? Number(raw) : null;
  };
  const state = field(FIELD.state);
  const values = {
    ppid: integer(FIELD.ppid),
    flags: integer(FIELD.flags),
    minorFaults: integer(FIELD.minflt),
    majorFaults: integer(FIELD.majflt),
    threads: integer(FIELD.numThreads),
    startTime: integer(FIELD.startTime),
    rssPages: integer(FIELD.rss),
  };
  if (state === undefined || !/^[A-Za-z]$/.test(state)) return null;
  const { ppid, flags, minorFaults, majorFaults, threads, startTime, rssPages } = values;
  if (
    ppid === null || flags === null || minorFaults === null || majorFaults === null ||
    threads === null || startTime === null || rssPages === null
  ) return null;
  return {
    pid: Number(pidText),
    name: text.slice(open + 1, close),
    state,
    ppid,
    flags,
    minorFaults,
    majorFaults,
    threads,
    startTime,
    rssPages,
  };
}

/** A kernel thread: PF_KTHREAD, or kthreadd itself, or one of its children. */
export function isKernelThread(stat: ParsedStat): boolean {
  return (stat.flags & PF_KTHREAD) !== 0 || stat.pid === KTHREADD_PID ||
    stat.ppid === KTHREADD_PID;
}

export function toProcessInfo(stat: ParsedStat, uid: number | null): ProcessInfo {
  return {
    pid: stat.pid,
    startTime: stat.startTime,
    name: stat.name,
    state: stat.state,
    ppid: stat.ppid,
    uid,
    threads: stat.threads,
    rssKb: Math.max(0, stat.rssPages) * PAGE_KB,
    minorFaults: stat.minorFaults,
    majorFaults: stat.majorFaults,
    kernelThread: isKernelThread(stat),
  };
}

/** What reading one pid gave: a process, nothing (it vanished), or a problem. */
export type ProcessRead =
  | { kind: "process"; process: ProcessInfo }
  | { kind: "vanished" }
  | { kind: "malformed"; reason: string };

/** ENOENT or ESRCH: the process exited (and maybe was reaped) while we looked. */
function isGone(error: unknown): boolean {
  if (error instanceof Deno.errors.NotFound) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ESRCH" || code === "ENOENT";
}

function readTextOrGone(path: string): string | null {
  return readSmallTextOrGone(path);
}

/**
 * The owner of /proc/PID: the kernel sets it to the task's effective uid
 * (and gid), except for non-dumpable tasks (setuid programs, some daemons),
 * which show as root. Cheap, and close enough to tell "mine" from "root's".
 */
function ownerUidOrGone(dir: string): number | null | "gone" {
  try {
    return Deno.statSync(dir).uid;
  } catch (error) {
    if (isGone(error)) return "gone";
    throw error;
  }
}

/**
 * Read one pid and say what happened (the scan needs the detail). With
 * `owners`, the owner of a process seen before is remembered, not stat'ed.
 */
export function readProcessDetailed(
  procRoot: string,
  pid: number,
  owners?: OwnerCache,
): ProcessRead {
  const dir = `${procRoot}/${pid}`;
  let statText: string | null;
  try {
    statText = readTextOrGone(`${dir}/stat`);
  } catch (error) {
    const message = errorMessage(error);
    return { kind: "malformed", reason: `${dir}: unreadable (${message})` };
  }
  // An empty stat is what a reaped process can leave behind mid-read.
  if (statText === null || statText.trim() === "") return { kind: "vanished" };
  const stat = parseStat(statText);
  let uid: number | null | "gone";
  try {
    // The owner is remembered only for a process whose stat says who it is.
    uid = owners === undefined || stat === null || stat.pid !== pid
      ? ownerUidOrGone(dir)
      : owners.owner(pid, stat.startTime, () => ownerUidOrGone(dir));
  } catch (error) {
    const message = errorMessage(error);
    return { kind: "malformed", reason: `${dir}: unreadable (${message})` };
  }
  if (uid === "gone") return { kind: "vanished" };
  if (stat === null) {
    return { kind: "malformed", reason: `${dir}/stat: cannot parse ${preview(statText)}` };
  }
  if (stat.pid !== pid) {
    return { kind: "malformed", reason: `${dir}/stat: names pid ${stat.pid}` };
  }
  return { kind: "process", process: toProcessInfo(stat, uid) };
}

function preview(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text;
  return JSON.stringify(shown);
}

/** One process, or null when it is gone or its stat is malformed. */
export function readProcess(procRoot: string, pid: number): Promise<ProcessInfo | null> {
  const read = readProcessDetailed(procRoot, pid);
  return Promise.resolve(read.kind === "process" ? read.process : null);
}

/** The process with `key.pid`, only if it is still the same one (same start time). */
export async function confirmProcess(
  procRoot: string,
  key: ProcessKey,
): Promise<ProcessInfo | null> {
  const process = await readProcess(procRoot, key.pid);
  return process !== null && process.startTime === key.startTime ? process : null;
}

/** Numeric entries of a /proc-like directory, ascending; null when it is gone. */
function numericEntries(dir: string): number[] | null {
  const ids: number[] = [];
  try {
    for (const entry of Deno.readDirSync(dir)) {
      if (/^\d+$/.test(entry.name)) ids.push(Number(entry.name));
    }
  } catch (error) {
    // Gone, or hidden from us (hidepid): either way there is nothing to list.
    if (isGone(error) || error instanceof Deno.errors.PermissionDenied) return null;
    throw error;
  }
  return ids.sort((a, b) => a - b);
}

export interface ProcessScan {
  processes: ProcessInfo[];
  /** pids listed by readdir that were gone by the time we read them. */
  vanished: number;
  /** Human-readable problems, one per pid whose stat could not be parsed. */
  malformed: string[];
}

/** Every process under `procRoot`, kernel threads included (flagged), ascending pid. */
export function scanProcesses(procRoot = "/proc", owners?: OwnerCache): Promise<ProcessScan> {
  const reads = (numericEntries(procRoot) ?? []).map((pid) =>
    readProcessDetailed(procRoot, pid, owners)
  );
  owners?.endScan();

  const scan: ProcessScan = { processes: [], vanished: 0, malformed: [] };
  for (const read of reads) {
    if (read.kind === "process") scan.processes.push(read.process);
    else if (read.kind === "vanished") scan.vanished++;
    else scan.malformed.push(read.reason);
  }
  return Promise.resolve(scan);
}

/** Every process under `procRoot` (see {@link scanProcesses} for the skipped ones). */
export async function listProcesses(
  procRoot = "/proc",
  owners?: OwnerCache,
): Promise<ProcessInfo[]> {
  return (await scanProcesses(procRoot, owners)).processes;
}

/** Thread ids of `pid` from /proc/PID/task; [] when the process is gone. */
export function listThreadIds(procRoot: string, pid: number): Promise<number[]> {
  return Promise.resolve(threadIds(procRoot, pid) ?? []);
}

/**
 * Thread ids of `pid`, synchronously (the counters sample inside a
 * synchronous call); null when the process is gone.
 */
export function threadIds(procRoot: string, pid: number): number[] | null {
  return numericEntries(`${procRoot}/${pid}/task`);
}
