/**
 * Standard output as waspd uses it: synchronous writes (a JSON line is
 * whole or absent), a reader that went away told apart from other write
 * errors, and a stdout that was closed before waspd started detected at all.
 *
 * A one-shot command (`--once`, `probe`, `status`) writes and waits like any
 * Unix tool: a slow reader gets everything. The daemon's streams (`--json`,
 * `--headless`) must never wait on their reader, which would stop its ticks,
 * its /metrics and its signals: for them `unblock()` puts stdout and stderr
 * (each one that is not a terminal) in O_NONBLOCK mode behind a bounded
 * OutputQueue (sys/output_queue.ts), and `finish()` at exit gives what is
 * queued a short, bounded time and puts the flags back.
 */
import { type Libc, libc, O_ACCMODE, O_NONBLOCK, O_RDWR } from "../ffi/libc.ts";
import { Errno, SyscallError } from "../ffi/errno.ts";
import { dropCounts, type DropEpisode, OutputQueue } from "./output_queue.ts";

/** The reader of stdout went away (EPIPE): a quiet end, like `--json | head -1`. */
export class OutputClosed extends Error {
  override readonly name = "OutputClosed";
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** See ProcessOutput.unblock; absent where writes never block (a test's buffer). */
  unblock?(dropped: (report: DropReport) => void): () => void;
}

const encoder = new TextEncoder();
/**
 * One buffer for every write, grown when a text needs more: a --json line of
 * 2000 processes is ~700 KB, and a fresh array for each was external memory
 * that only a major GC gave back (the daemon's RSS median fell 102 -> 99 MB).
 */
let buffer = new Uint8Array(64 * 1024);

/**
 * Write all of `text` to `file`. writeSync may write less than asked (a
 * pipe near full); a JSON line cut in half would be worse than none. EPIPE
 * becomes OutputClosed; any other error is thrown as it is.
 */
export function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  // UTF-8 needs at most 3 bytes per UTF-16 unit.
  if (buffer.length < text.length * 3) buffer = new Uint8Array(text.length * 3);
  let bytes = buffer.subarray(0, encoder.encodeInto(text, buffer).written);
  try {
    while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) {
      throw new OutputClosed("stdout closed by its reader");
    }
    throw error;
  }
}

export type StreamName = "stdout" | "stderr";

/** An episode of lines dropped on `stream` because its reader did not read. */
export interface DropReport extends DropEpisode {
  stream: StreamName;
}

/** The one event line an episode of drops becomes. */
export function dropMessage(r: DropReport): string {
  const counts = dropCounts(r);
  return r.ongoing
    ? `output dropped: ${r.stream}'s reader is not reading: ${counts} so far`
    : `output dropped: ${r.stream}'s reader was not reading: ${counts}; lines go out again`;
}

/** How many bytes may wait for each stream's reader before lines are dropped. */
export const QUEUE_BYTES: Readonly<Record<StreamName, number>> = {
  // Room for a few --json lines of 2000 processes (~700 KB each).
  stdout: 4 * 1024 * 1024,
  stderr: 256 * 1024,
};
/** A stream that would block is tried again this often. */
export const RETRY_MS = 20;
/** At exit, queued output gets this long without progress, and this long in all. */
export const EXIT_FLUSH = { stallMs: 500, maxMs: 2000 } as const;

/**
 * write(2) on a non-blocking `fd` as an OutputQueue wants it: the count
 * written, 0 when the stream would block (EAGAIN), EINTR retried; EPIPE
 * becomes OutputClosed, any other error is thrown as it is.
 */
export function fdWriter(fd: number, lib: Pick<Libc, "write"> = libc()) {
  const name = fd === 2 ? "stderr" : fd === 1 ? "stdout" : `fd ${fd}`;
  return (bytes: Uint8Array<ArrayBuffer>): number => {
    for (;;) {
      try {
        return lib.write(fd, bytes);
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
        if (error.errno === Errno.EINTR) continue;
        if (error.errno === Errno.EAGAIN) return 0;
        if (error.errno === Errno.EPIPE) throw new OutputClosed(`${name} closed by its reader`);
        throw error;
      }
    }
  };
}

/** What ProcessOutput needs from the machine; tests pass fakes. */
export interface StdioSystem {
  isTerminal(fd: number): boolean;
  getFlags(fd: number): number;
  setFlags(fd: number, flags: number): void;
  writer(fd: number): (bytes: Uint8Array<ArrayBuffer>) => number;
  /** The blocking write of today's one-shot commands. */
  writeAll(fd: number, text: string): void;
  now(): number;
  later(retry: () => void, ms: number): () => void;
  sleep(ms: number): Promise<void>;
  /** Call `restore` on every way out, Deno.exit included. */
  onExit(restore: () => void): void;
}

const FDS: Readonly<Record<StreamName, number>> = { stdout: 1, stderr: 2 };

/** stdout and stderr of this process, blocking until `unblock()`. */
export class ProcessOutput implements Output {
  readonly #sys: StdioSystem;
  readonly #queues = new Map<StreamName, OutputQueue>();
  /** The flags each switched fd had, in the order they were switched. */
  #saved: [fd: number, flags: number][] = [];
  #listener: ((report: DropReport) => void) | null = null;
  #exitHooked = false;
  /** Between unblock() and finish(): writes go through the queues. */
  #queued = false;

  constructor(sys: StdioSystem) {
    this.#sys = sys;
  }

  // Arrow properties, not methods: callers hand `io.out` around on its own.
  out = (text: string): void => {
    const queue = this.#queued ? this.#queues.get("stdout") : undefined;
    if (queue === undefined) this.#sys.writeAll(1, text);
    else queue.write(text);
  };

  /** stderr errors are dropped: there is nowhere left to say them. */
  err = (text: string): void => {
    try {
      const queue = this.#queued ? this.#queues.get("stderr") : undefined;
      if (queue === undefined) this.#sys.writeAll(2, text);
      else queue.write(text);
    } catch {
      // stderr itself is gone: the exit code still tells.
    }
  };

  /**
   * From now on, writes never wait for a reader: each of stdout and stderr
   * that is not a terminal is switched to O_NONBLOCK and written through a
   * bounded queue. A terminal stays as it is: it is shared with the shell
   * that started waspd (an O_NONBLOCK left behind by a kill -9 would break
   * the shell's reads), and a half-sent screen update would tear the screen.
   *
   * O_NONBLOCK belongs to the open file, not to the fd: whoever shares it
   * sees it too. That is the shell's pipe (the shell itself does not write
   * to it while waspd runs), or systemd's journal socket (given to waspd
   * alone; its stderr is usually the same socket, hence both streams are
   * queued); a sibling writing to the same pipe at the same time could meet
   * EAGAIN, which is rare and ends with waspd: the flags are put back at
   * every exit but SIGKILL.
   *
   * `dropped` hears each ended episode of drops; the returned function
   * reports the episodes still under way (ongoing) and stops the reports.
   */
  unblock(dropped: (report: DropReport) => void): () => void {
    this.#listener = dropped;
    this.#queued = true;
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.#queues.has(stream)) continue;
      const fd = FDS[stream];
      if (this.#sys.isTerminal(fd)) continue;
      try {
        const flags = this.#sys.getFlags(fd);
        this.#saved.push([fd, flags]);
        this.#sys.setFlags(fd, flags | O_NONBLOCK);
      } catch {
        // No such fd, or fcntl refused: the stream stays blocking.
        continue;
      }
      const queue = new OutputQueue({
        write: this.#sys.writer(fd),
        capacityBytes: QUEUE_BYTES[stream],
        now: this.#sys.now,
        later: this.#sys.later,
        retryMs: RETRY_MS,
      });
      queue.onEpisodeEnd = (episode) => this.#listener?.({ stream, ...episode });
      this.#queues.set(stream, queue);
    }
    if (!this.#exitHooked && this.#saved.length > 0) {
      this.#exitHooked = true;
      this.#sys.onExit(() => this.#restoreFlags());
    }
    return () => {
      const listener = this.#listener;
      this.#listener = null;
      for (const [stream, queue] of this.#queues) {
        const episode = queue.endEpisode();
        if (episode !== null) listener?.({ stream, ...episode });
      }
    };
  }

  /** Lines dropped so far per stream (0 for a stream never queued). */
  dropped(): Record<StreamName, number> {
    return {
      stdout: this.#queues.get("stdout")?.droppedLines ?? 0,
      stderr: this.#queues.get("stderr")?.droppedLines ?? 0,
    };
  }

  /**
   * At exit: what is queued gets EXIT_FLUSH (never longer: a reader that
   * stopped reading does not hold up the exit), then the fds get their
   * flags back. Writes after this wait for their reader again.
   */
  async finish(): Promise<void> {
    if (!this.#queued) return;
    for (const queue of this.#queues.values()) {
      await queue.flush({ ...EXIT_FLUSH, sleep: this.#sys.sleep });
      queue.stop();
    }
    this.#queued = false;
    this.#restoreFlags();
  }

  #restoreFlags(): void {
    // Backwards: stdout and stderr may share one open file, whose flags
    // before the first switch are the ones to put back.
    for (const [fd, flags] of this.#saved.reverse()) {
      try {
        this.#sys.setFlags(fd, flags);
      } catch {
        // The fd is gone: nothing left to restore.
      }
    }
    this.#saved = [];
  }
}

const DENO_FILES = { 1: Deno.stdout, 2: Deno.stderr } as const;

/** The real machine: libc for the flags and the non-blocking writes, timers that never hold the exit. */
export const denoStdioSystem: StdioSystem = {
  isTerminal: (fd) => DENO_FILES[fd as 1 | 2].isTerminal(),
  getFlags: (fd) => libc().getFlags(fd),
  setFlags: (fd, flags) => libc().setFlags(fd, flags),
  writer: (fd) => fdWriter(fd),
  writeAll: (fd, text) => writeAll(DENO_FILES[fd as 1 | 2], text),
  now: () => performance.now(),
  later: (retry, ms) => {
    const id = setTimeout(retry, ms);
    Deno.unrefTimer(id);
    return () => clearTimeout(id);
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  onExit: (restore) => globalThis.addEventListener("unload", restore),
};

/** The process's stdout and stderr. */
export const stdio: ProcessOutput = new ProcessOutput(denoStdioSystem);

/** What /proc says about one of our fds: its target and its open flags. */
export interface FdFacts {
  target: string | null;
  /** The `flags:` line of fdinfo (octal), or null when unreadable. */
  flags: number | null;
}

/**
 * Whether fd 1 was closed when waspd started (`waspd --once --json >&-`).
 * The runtime replaces a closed stdio fd by /dev/null opened read-write
 * before any of our code runs, so the output would silently vanish. A shell
 * redirect `>/dev/null` opens it write-only, and a daemonizer that points
 * every fd at /dev/null points stderr there too: neither is taken for a
 * closed stdout. Pure: the facts come from `readFd`.
 */
export function stdoutWasClosed(stdout: FdFacts, stderr: FdFacts): boolean {
  if (stdout.target !== "/dev/null" || stdout.flags === null) return false;
  return (stdout.flags & O_ACCMODE) === O_RDWR && stderr.target !== "/dev/null";
}

/** Read the facts of `fd` from /proc/self (nulls where /proc says nothing). */
export function readFd(fd: number, procRoot = "/proc"): FdFacts {
  let target: string | null = null;
  let flags: number | null = null;
  try {
    target = Deno.readLinkSync(`${procRoot}/self/fd/${fd}`);
  } catch {
    // no such fd, or no /proc: unknown
  }
  try {
    const m = Deno.readTextFileSync(`${procRoot}/self/fdinfo/${fd}`).match(/^flags:\s*([0-7]+)/m);
    if (m) flags = parseInt(m[1]!, 8);
  } catch {
    // unknown
  }
  return { target, flags };
}
