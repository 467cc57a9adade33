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
import { libc } from "../ffi/libc.ts";
import type { SmallFileReader } from "./small_read.ts";

interface Kept {
  fd: number;
  /** The scan that last read it: a file no scan read is closed at the scan's end. */
  scan: number;
}

export class KeptStatFiles {
  readonly #limit: number;
  readonly #kept = new Map<number, Kept>();
  #scan = 0;

  /** `limit`: how many files may stay open at once (0: none is kept). */
  constructor(limit: number) {
    this.#limit = Math.max(0, limit);
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
      this.#kept.set(pid, { fd, scan: this.#scan });
    } else {
      libc().close(fd);
    }
    return length;
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
