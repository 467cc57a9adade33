/**
 * Standard output as waspd uses it: synchronous writes (a JSON line is
 * whole or absent), a reader that went away told apart from other write
 * errors, and a stdout that was closed before waspd started detected at all.
 */
import { O_ACCMODE, O_RDWR } from "../ffi/libc.ts";

/** The reader of stdout went away (EPIPE): a quiet end, like `--json | head -1`. */
export class OutputClosed extends Error {
  override readonly name = "OutputClosed";
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
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

/** The process's stdout and stderr (stderr errors are dropped: there is nowhere left to say them). */
export const stdio: Output = {
  out: (text) => writeAll(Deno.stdout, text),
  err: (text) => {
    try {
      writeAll(Deno.stderr, text);
    } catch {
      // stderr itself is gone: the exit code still tells.
    }
  },
};

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
