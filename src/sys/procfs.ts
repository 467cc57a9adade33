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
 * fd (the counters share the fd budget). The pids come from getdents64 and
 * each stat is parsed in the read buffer (dir_entries.ts, proc_stat.ts), so
 * a scan makes about one object per process and no string per file.
 *
 * Processes come and go while we read: one that vanishes between readdir and
 * read is skipped silently (that is normal), while a stat that does not parse
 * is skipped and reported in `ProcessScan.malformed` (that is not).
 */
import type { ProcessInfo, ProcessKey } from "../core/types.ts";
import type { OwnerCache } from "./owner_cache.ts";
import type { KeptStatFiles } from "./kept_stat_files.ts";
import { isGone, SmallFileReader } from "./small_read.ts";
import { errorMessage } from "../core/error_message.ts";
import { cString } from "../ffi/libc.ts";
import { numericEntriesOrGone } from "./dir_entries.ts";
import { PidPaths } from "./pid_paths.ts";
import { isSpace, parseStatBytes, toProcessInfo } from "./proc_stat.ts";

const STAT = cString("/stat");
const TASK = cString("/task");

/** One path buffer per root (/proc, or a fixture tree), kept for every later scan. */
const pathsByRoot = new Map<string, PidPaths>();
function pidPaths(root: string): PidPaths {
  let paths = pathsByRoot.get(root);
  if (paths === undefined) pathsByRoot.set(root, paths = new PidPaths(root));
  return paths;
}

/** What reading one pid gave: a process, nothing (it vanished), or a problem. */
export type ProcessRead =
  | { kind: "process"; process: ProcessInfo }
  | { kind: "vanished" }
  | { kind: "malformed"; reason: string };

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

/** The kept buffers one scan reads every pid through. */
class ProcReader {
  readonly #root: string;
  readonly #paths: PidPaths;
  readonly #file = new SmallFileReader();
  /** The owner stat of a pid, made once per reader (not a closure per pid). */
  readonly #statOwner = (pid: number) => ownerUidOrGone(`${this.#root}/${pid}`);

  constructor(root: string) {
    this.#root = root;
    this.#paths = pidPaths(root);
  }

  /** The pids under the root, ascending; null when it cannot be listed. */
  pids(): number[] | null {
    return numericEntriesOrGone(cString(this.#root));
  }

  /**
   * Read one pid and say what happened (the scan needs the detail). With
   * `owners`, the owner of a process seen before is remembered, not stat'ed;
   * with `kept`, its stat file stays open for the next scan.
   */
  read(pid: number, owners?: OwnerCache, kept?: KeptStatFiles): ProcessRead {
    // A kernel thread not yet due to be read again is as it was (kept_stat_files.ts).
    const settled = kept?.settled(pid);
    if (settled != null) return { kind: "process", process: settled };
    let length: number | null;
    try {
      const path = this.#paths.path(pid, STAT);
      length = kept === undefined ? this.#file.readOrGone(path) : kept.read(pid, path, this.#file);
    } catch (error) {
      const message = errorMessage(error);
      return { kind: "malformed", reason: `${this.#root}/${pid}: unreadable (${message})` };
    }
    const bytes = this.#file.buffer;
    // An empty stat is what a reaped process can leave behind mid-read.
    if (length === null || isBlank(bytes, length)) return { kind: "vanished" };
    const same = kept?.unchanged(pid, bytes, length);
    if (same != null) return this.#again(same, owners);
    const stat = parseStatBytes(bytes, length);
    // The owner is remembered only for a process whose stat says who it is.
    const uid = this.#owner(pid, stat?.pid === pid ? stat.startTime : null, owners);
    if (typeof uid === "object" && uid !== null) return uid;
    if (stat === null) {
      const text = new TextDecoder().decode(bytes.subarray(0, length));
      return {
        kind: "malformed",
        reason: `${this.#root}/${pid}/stat: cannot parse ${preview(text)}`,
      };
    }
    if (stat.pid !== pid) {
      return { kind: "malformed", reason: `${this.#root}/${pid}/stat: names pid ${stat.pid}` };
    }
    const process = toProcessInfo(stat, uid);
    kept?.remember(pid, bytes, length, process);
    return { kind: "process", process };
  }

  /** A process whose stat text is as before: the same, unless its owner changed. */
  #again(same: ProcessInfo, owners?: OwnerCache): ProcessRead {
    const uid = this.#owner(same.pid, same.startTime, owners);
    if (typeof uid === "object" && uid !== null) return uid;
    return { kind: "process", process: uid === same.uid ? same : { ...same, uid } };
  }

  /**
   * The owner of `pid` (remembered by `owners` when its start time is known),
   * or what the scan makes of a failure: vanished, or unreadable.
   */
  #owner(
    pid: number,
    startTime: number | null,
    owners?: OwnerCache,
  ): number | null | ProcessRead {
    let uid: number | null | "gone";
    try {
      uid = owners === undefined || startTime === null
        ? this.#statOwner(pid)
        : owners.owner(pid, startTime, this.#statOwner);
    } catch (error) {
      const message = errorMessage(error);
      return { kind: "malformed", reason: `${this.#root}/${pid}: unreadable (${message})` };
    }
    return uid === "gone" ? { kind: "vanished" } : uid;
  }
}

/** Only ASCII whitespace in bytes[0, length). */
function isBlank(bytes: Uint8Array, length: number): boolean {
  for (let i = 0; i < length; i++) if (!isSpace(bytes[i]!)) return false;
  return true;
}

/** Read one pid and say what happened (see {@link ProcReader.read}). */
export function readProcessDetailed(
  procRoot: string,
  pid: number,
  owners?: OwnerCache,
): ProcessRead {
  return new ProcReader(procRoot).read(pid, owners);
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

export interface ProcessScan {
  processes: ProcessInfo[];
  /** pids listed by readdir that were gone by the time we read them. */
  vanished: number;
  /** Human-readable problems, one per pid whose stat could not be parsed. */
  malformed: string[];
}

/**
 * Every process under `procRoot`, kernel threads included (flagged), ascending
 * pid. A daemon passes the caches it keeps between scans: `owners` and `kept`.
 */
export function scanProcesses(
  procRoot = "/proc",
  owners?: OwnerCache,
  kept?: KeptStatFiles,
): Promise<ProcessScan> {
  const reader = new ProcReader(procRoot);
  const scan: ProcessScan = { processes: [], vanished: 0, malformed: [] };
  for (const pid of reader.pids() ?? []) {
    const read = reader.read(pid, owners, kept);
    if (read.kind === "process") scan.processes.push(read.process);
    else if (read.kind === "vanished") scan.vanished++;
    else scan.malformed.push(read.reason);
  }
  owners?.endScan();
  kept?.endScan();
  return Promise.resolve(scan);
}

/** Every process under `procRoot` (see {@link scanProcesses} for the skipped ones). */
export async function listProcesses(
  procRoot = "/proc",
  owners?: OwnerCache,
  kept?: KeptStatFiles,
): Promise<ProcessInfo[]> {
  return (await scanProcesses(procRoot, owners, kept)).processes;
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
  return numericEntriesOrGone(pidPaths(procRoot).path(pid, TASK));
}

const STATUS = cString("/status");

/**
 * VmPTE of /proc/PID/status in KiB: the size of the process's page tables.
 * null when the line is absent (a kernel thread has no mm) or malformed.
 */
export function parseVmPteKb(status: string): number | null {
  const match = /^VmPTE:\s*(\d+)\s*kB\s*$/m.exec(status);
  if (match === null) return null;
  const kb = Number(match[1]);
  return Number.isSafeInteger(kb) ? kb : null;
}

/**
 * The page-table size of the process `key` names, KiB; null when it is gone,
 * its pid now names another process, or the size is not shown. Two small
 * reads (stat for the identity, then status): for the processes in play only.
 */
export function readPageTablesKb(procRoot: string, key: ProcessKey): number | null {
  const read = readProcessDetailed(procRoot, key.pid);
  if (read.kind !== "process" || read.process.startTime !== key.startTime) return null;
  const reader = new SmallFileReader();
  let length: number | null;
  try {
    length = reader.readOrGone(pidPaths(procRoot).path(key.pid, STATUS));
  } catch {
    return null; // unreadable (EACCES, EIO): unknown, never a crash
  }
  if (length === null) return null;
  return parseVmPteKb(new TextDecoder().decode(reader.buffer.subarray(0, length)));
}
