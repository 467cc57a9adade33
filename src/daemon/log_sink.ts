/**
 * The --log sink that survives its file: a full disk, a FIFO whose reader
 * left, /dev/full, an NFS server gone. A failed write never reaches the
 * daemon's loop (where it would end the process without its undo); the
 * log is reported as stopped once, with the reason, and reopened on a later
 * write once `retryMs` has passed. Lines in between are counted, not kept:
 * the snapshots still carry every event, and an unbounded backlog is how a
 * stalled reader would eat the daemon's memory.
 */
import { errorMessage } from "../core/error_message.ts";

/** Where the lines go: a file, a FIFO (sys/log_file.ts), or a fake in tests. */
export interface LogTarget {
  /** (Re)open; throws when it cannot. */
  open(): void;
  /** Write what it can now; returns the byte count (a short count is fine); throws on error. */
  write(bytes: Uint8Array<ArrayBuffer>): number;
  close(): void;
}

export interface LogSinkOptions {
  /** What the user named, for messages. */
  name: string;
  target: LogTarget;
  /** Monotonic ms. */
  now(): number;
  /** How long a stopped log rests before it is tried again. */
  retryMs: number;
  /** Told once when logging stops and once when it resumes (an event, typically). */
  report(kind: "stopped" | "resumed", message: string): void;
}

/** Default rest between attempts: short enough to catch a returning reader, long enough not to spin. */
export const LOG_RETRY_MS = 10_000;

const encoder = new TextEncoder();

export class ResilientLog {
  readonly #o: LogSinkOptions;
  #stoppedAtMs: number | null = null;
  /** Lines not written since logging stopped. */
  #lost = 0;
  /** The last write was cut short: the next line starts on a fresh line. */
  #cut = false;

  constructor(options: LogSinkOptions) {
    this.#o = options;
  }

  /** Open the target the first time; throws (the caller decides: a bad --log at start is a usage error). */
  open(): void {
    this.#o.target.open();
  }

  /**
   * Write one line; never throws. A stopped log rests `retryMs`, then is
   * reopened and tried with the line at hand: only a line that gets through
   * says "resumed", so a disk still full stays quiet instead of reporting a
   * stop and a resume every round.
   */
  write(line: string): void {
    const retrying = this.#stoppedAtMs !== null;
    if (this.#stoppedAtMs !== null) {
      if (this.#o.now() - this.#stoppedAtMs < this.#o.retryMs) {
        this.#lost++;
        return;
      }
      try {
        this.#o.target.open();
      } catch (error) {
        this.#fail(errorMessage(error), true);
        return;
      }
    }
    const bytes = encoder.encode((this.#cut ? "\n" : "") + line + "\n");
    // A short write is followed by the rest at once: that second write
    // either finishes the line or fails with the real reason (ENOSPC, EAGAIN).
    let written = 0;
    try {
      while (written < bytes.length) {
        const n = this.#o.target.write(bytes.subarray(written));
        if (n <= 0) throw new Error("nothing could be written");
        written += n;
      }
    } catch (error) {
      this.#cut = written > 0;
      this.#fail(errorMessage(error), retrying);
      return;
    }
    this.#cut = false;
    if (retrying) {
      const lost = this.#lost;
      this.#stoppedAtMs = null;
      this.#lost = 0;
      this.#o.report(
        "resumed",
        `--log ${this.#o.name}: logging resumed (${lost} line${lost === 1 ? "" : "s"} not logged)`,
      );
    }
  }

  /**
   * Open the file afresh by its name (SIGHUP, after logrotate): a rotated-away
   * file (`create`) is left for the new one, a truncated one (`copytruncate`)
   * is appended to from its new end. A failure stops logging as a failed
   * write does; a log already stopped is tried again at its next line.
   */
  reopen(): void {
    const stopped = this.#stoppedAtMs !== null;
    try {
      this.#o.target.open();
    } catch (error) {
      this.#fail(errorMessage(error), stopped);
      return;
    }
    this.#cut = false;
    if (stopped) this.#stoppedAtMs = Number.NEGATIVE_INFINITY;
  }

  close(): void {
    this.#o.target.close();
  }

  /** The line at hand is lost; say why unless this was a retry of a log already reported stopped. */
  #fail(why: string, quiet: boolean): void {
    this.#lost++;
    this.#stoppedAtMs = this.#o.now();
    if (quiet) return;
    // State first: the report is itself an event, and comes back here as a line to count.
    this.#o.report(
      "stopped",
      `--log ${this.#o.name}: logging stopped: ${why}; retrying every ${
        Math.round(this.#o.retryMs / 1000)
      } s`,
    );
  }
}
