/**
 * The /proc/PID/stat files of the processes a scan saw, kept open from one
 * scan to the next: reading a kept file again (pread from offset 0, which
 * makes the kernel generate it afresh) skips the path walk, open and close
 * that are otherwise half of a scan's CPU. Measured with 2100 processes,
 * three runs of 30 scans: open+read+close 23-27 ms per scan, pread on kept
 * files 12-16 ms.
 *
 * A kept file belongs to its process, not to its pid: once the process is
 * gone, reading it fails (ESRCH), and a pid reused since is opened afresh.
 * Bounded: at most `limit` files (a share of RLIMIT_NOFILE next to the
 * counters'); past it the other processes are read the plain way. Each kept
 * file holds a page of kernel memory for its text.
 */
import type { ProcessInfo } from "../core/types.ts";
import { libc } from "../ffi/libc.ts";
import type { SmallFileReader } from "./small_read.ts";

/** How many scans a kernel thread goes unread at most (see above). */
export const KERNEL_THREAD_RECHECK_SCANS = 10;

interface Kept {
  fd: number;
  /** The scan that last read it: a file no scan read is closed at the scan's end. */
  scan: number;
  /** The text last read and the process made of it (see `unchanged`). */
  text: Uint8Array | null;
  process: ProcessInfo | null;
  /** Scans left in which a kernel thread is not read (see `settled`). */
  rest: number;
}

export class KeptStatFiles {
  readonly #limit: number;
  readonly #recheckEvery: number;
  readonly #kept = new Map<number, Kept>();
  #scan = 0;

  /**
   * `limit`: how many files may stay open at once (0: none is kept);
   * `recheckEvery`: how often a kernel thread is read (1: every scan).
   */
  constructor(limit: number, recheckEvery = KERNEL_THREAD_RECHECK_SCANS) {
    this.#limit = Math.max(0, limit);
    this.#recheckEvery = Math.max(1, Math.floor(recheckEvery));
  }

  /** Files open now. */
  get size(): number {
    return this.#kept.size;
  }

  /**
   * Read the stat of `pid` into `reader`'s buffer: through its kept file, or
   * by opening `cPath` (kept for the next scans while there is room). The
   * length, or null when the process is gone. Errors other than "gone" are
   * thrown, as an open of `cPath` throws them.
   */
  read(pid: number, cPath: Uint8Array<ArrayBuffer>, reader: SmallFileReader): number | null {
    const kept = this.#kept.get(pid);
    if (kept !== undefined) {
      kept.scan = this.#scan;
      let length: number | null = null;
      try {
        length = reader.readFdOrGone(kept.fd, true);
      } catch {
        // Unreadable through the kept file: judged below by a fresh open.
      }
      if (length !== null && length > 0) return length;
      // Its process went (the pid may name a new one now), or the file failed.
      this.#forget(pid, kept);
    }
    const fd = reader.openOrGone(cPath);
    if (fd === null) return null;
    let length: number | null;
    try {
      length = reader.readFdOrGone(fd, false);
    } catch (error) {
      libc().close(fd);
      throw error;
    }
    if (length !== null && length > 0 && this.#kept.size < this.#limit) {
      this.#kept.set(pid, { fd, scan: this.#scan, text: null, process: null, rest: 0 });
    } else {
      libc().close(fd);
    }
    return length;
  }

  /**
   * The kernel thread `pid` was at an earlier scan, while it is not due to be
   * read again (the scan takes it as it was); null for any other pid. Kernel
   * threads are read every `recheckEvery` scans, spread over the scans by pid.
   */
  settled(pid: number): ProcessInfo | null {
    const kept = this.#kept.get(pid);
    if (kept === undefined || kept.process?.kernelThread !== true || kept.rest <= 0) return null;
    kept.rest--;
    kept.scan = this.#scan;
    return kept.process;
  }

  /**
   * The process made from the same stat text at an earlier scan, if the text
   * just read (`bytes[0, length)`) is that text byte for byte: a process that
   * did not run, fault or change since is neither parsed nor made again,
   * and the object the daemon held already stays (no new garbage per tick).
   */
  unchanged(pid: number, bytes: Uint8Array, length: number): ProcessInfo | null {
    const kept = this.#kept.get(pid);
    const text = kept?.text;
    if (kept?.process == null || text == null || text.length !== length) return null;
    for (let i = 0; i < length; i++) if (text[i] !== bytes[i]) return null;
    kept.rest = this.#restOf(pid, kept.process, true);
    return kept.process;
  }

  /** Remember `process` as made from `bytes[0, length)`, for {@link unchanged}. */
  remember(pid: number, bytes: Uint8Array, length: number, process: ProcessInfo): void {
    const kept = this.#kept.get(pid);
    if (kept === undefined) return;
    if (kept.text?.length !== length) kept.text = new Uint8Array(length);
    kept.text.set(bytes.subarray(0, length));
    kept.rest = this.#restOf(pid, process, kept.process !== null);
    kept.process = process;
  }

  /**
   * The scans a process just read goes unread: none unless a kernel thread;
   * at first sight the pid picks the phase, so the kernel threads of one scan
   * do not all come due in the same later scan.
   */
  #restOf(pid: number, process: ProcessInfo, seenBefore: boolean): number {
    if (!process.kernelThread) return 0;
    return seenBefore ? this.#recheckEvery - 1 : pid % this.#recheckEvery;
  }

  /** A scan is over: close the files of processes it did not read (gone, or no longer listed). */
  endScan(): void {
    for (const [pid, kept] of this.#kept) {
      if (kept.scan !== this.#scan) this.#forget(pid, kept);
    }
    this.#scan++;
  }

  /** Close every kept file (the host's close). */
  close(): void {
    for (const [pid, kept] of this.#kept) this.#forget(pid, kept);
  }

  #forget(pid: number, kept: Kept): void {
    this.#kept.delete(pid);
    try {
      libc().close(kept.fd);
    } catch {
      // Already closed: nothing is held.
    }
  }
}
