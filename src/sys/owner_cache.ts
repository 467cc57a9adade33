/**
 * The owners (uids) of /proc/PID directories, remembered per process
 * between scans. A stat(2) per pid per tick is about a tenth of a tick's CPU
 * with 2000 processes, and an owner rarely changes: each process is stat'ed
 * when first seen (or when its pid is reused: the start time differs) and
 * again every `restatEvery` scans, so a process that changes its euid later
 * (a daemon dropping root) shows its new owner within that many ticks.
 */
export const RESTAT_EVERY_SCANS = 30;

interface Entry {
  startTime: number;
  uid: number | null;
  /** Scans left before the owner is read again. */
  left: number;
}

export class OwnerCache {
  readonly #restatEvery: number;
  #entries = new Map<number, Entry>();
  #next = new Map<number, Entry>();

  constructor(restatEvery = RESTAT_EVERY_SCANS) {
    this.#restatEvery = restatEvery;
  }

  /**
   * The owner of `pid` (started at `startTime`): remembered, or read with
   * `stat(pid)` (which may say "gone"). Only what one scan saw is kept for the next.
   */
  owner(
    pid: number,
    startTime: number,
    stat: (pid: number) => number | null | "gone",
  ): number | null | "gone" {
    const known = this.#entries.get(pid);
    if (known !== undefined && known.startTime === startTime && known.left > 0) {
      // The entry itself moves on (one scan holds it at a time): no copy per pid per tick.
      known.left--;
      this.#next.set(pid, known);
      return known.uid;
    }
    const uid = stat(pid);
    if (uid !== "gone") {
      // First sight: the pid picks the phase, so 2000 processes seen together
      // do not all come due in the same scan later.
      const left = known === undefined || known.startTime !== startTime
        ? pid % this.#restatEvery
        : this.#restatEvery - 1;
      this.#next.set(pid, { startTime, uid, left });
    }
    return uid;
  }

  /** A scan ended: forget the pids it did not see. */
  endScan(): void {
    this.#entries = this.#next;
    this.#next = new Map();
  }
}
