/**
 * The --log file as waspd writes it: opened O_APPEND | O_NONBLOCK through
 * libc, written with write(2). Non-blocking because the file may be a FIFO:
 * opening one with no reader would wait forever (ENXIO instead), and a
 * reader that stops reading would block the daemon's loop on a full pipe
 * (EAGAIN instead). Deno's own open has no O_NONBLOCK, hence libc.
 */
import { libc, O_APPEND, O_CLOEXEC, O_CREAT, O_NONBLOCK, O_WRONLY } from "../ffi/libc.ts";
import { errnoText, SyscallError } from "../ffi/errno.ts";
import { OwnedFd } from "../ffi/owned.ts";
import type { LogTarget } from "../daemon/log_sink.ts";

/** "No space left on device (ENOSPC)": what a user reads; the call itself is noise here. */
function plain(error: unknown): unknown {
  if (!(error instanceof SyscallError)) return error;
  const text = error.code === "ENXIO"
    ? "a FIFO with no process reading it"
    : errnoText(error.errno);
  return new Error(`${text} (${error.code})`, { cause: error });
}

const FLAGS = O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC;

/** A LogTarget on `path`; nothing is opened until `open()`. */
export class LogFile implements LogTarget {
  readonly path: string;
  #file: OwnedFd | null = null;

  constructor(path: string) {
    this.path = path;
  }

  /** Open (again): a FIFO's reader may have come back, a full disk may have room. */
  open(): void {
    this.close();
    try {
      this.#file = new OwnedFd(libc().open(this.path, FLAGS, 0o644));
    } catch (error) {
      throw plain(error);
    }
  }

  /** Bytes written (may be fewer than given); throws on EPIPE, ENOSPC, EAGAIN.... */
  write(bytes: Uint8Array<ArrayBuffer>): number {
    const file = this.#file;
    if (file === null) throw new Error(`${this.path} is not open`);
    try {
      return file.write(bytes);
    } catch (error) {
      throw plain(error);
    }
  }

  /** Close the file if open; close(2) failing (EIO on NFS) leaves nothing to undo (OwnedFd's dispose). */
  close(): void {
    this.#file?.[Symbol.dispose]();
    this.#file = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
