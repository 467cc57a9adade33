/**
 * waspd's small state files (/run/waspd/pins.json, owned.json): read as a
 * hostile user may have left them, written so a reader never sees half of one.
 *
 * Reading:
 * - only a regular file is read. lstat first, so a FIFO, device, socket,
 *   directory or symlink is never even opened (opening a FIFO blocks until a
 *   writer comes; a device may do anything); then open(2) with O_NOFOLLOW |
 *   O_NONBLOCK | O_NOCTTY and fstat on the open fd, so a file swapped in
 *   between cannot slip through either;
 * - at most `maxBytes` (1 MiB) is read: a larger file, or one that grows while
 *   read, is refused without reading the rest;
 * - the text must be UTF-8.
 * A file that fails any of this is `bad`: the caller reports the reason (never
 * the content) and sets it aside with `setAside`, so it is reported once and
 * kept for the operator to look at.
 *
 * Writing: a fresh temp file in the same directory (O_EXCL: never through a
 * planted link) then rename(2) over the name; a symlink at the name is
 * replaced, never written through. No fsync: /run is a tmpfs, and what these
 * files describe (pins, replication) does not survive a reboot either.
 */
import { SyscallError } from "../ffi/errno.ts";
import { OwnedFd } from "../ffi/owned.ts";
import { dirOf } from "./state_dir.ts";
import {
  libc,
  O_CLOEXEC,
  O_NOCTTY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDONLY,
  S_IFMT,
  S_IFREG,
} from "../ffi/libc.ts";
import { errorMessage } from "../core/error_message.ts";

/** Largest state file waspd reads or writes. */
export const STATE_FILE_MAX_BYTES = 1024 * 1024;

export type StateRead =
  /** No file: nothing recorded. */
  | { kind: "missing" }
  | { kind: "ok"; text: string }
  /** Not something waspd wrote: set it aside. `reason` never holds file content. */
  | { kind: "bad"; reason: string }
  /** Could not be read (permissions, I/O): report, leave it where it is. */
  | { kind: "error"; reason: string };

/** What kind of non-regular thing `info` describes, for messages. */
export function typeName(info: Deno.FileInfo): string {
  if (info.isSymlink) return "a symbolic link";
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** Read `path` if it is a regular file of at most `maxBytes` UTF-8 bytes. Never blocks. */
export function readStateFile(path: string, maxBytes = STATE_FILE_MAX_BYTES): StateRead {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { kind: "missing" };
    return { kind: "error", reason: `cannot stat it: ${errorMessage(error)}` };
  }
  if (!info.isFile) return { kind: "bad", reason: `not a regular file (${typeName(info)})` };
  if (info.size > maxBytes) {
    return { kind: "bad", reason: `larger than ${sizeText(maxBytes)} (${info.size} bytes)` };
  }
  const c = libc();
  let opened: OwnedFd;
  try {
    opened = OwnedFd.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, c);
  } catch (error) {
    if (error instanceof SyscallError) {
      if (error.code === "ENOENT") return { kind: "missing" };
      if (error.code === "ELOOP") {
        return { kind: "bad", reason: "not a regular file (a symbolic link)" };
      }
      return { kind: "error", reason: `cannot open it: ${error.code} (${error.message})` };
    }
    throw error;
  }
  using file = opened;
  try {
    const stat = c.fstat(file.fd);
    if ((stat.mode & S_IFMT) !== S_IFREG) {
      return { kind: "bad", reason: "not a regular file (replaced while opening)" };
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    // One byte past the cap tells "exactly the cap" from "more than the cap".
    const buf = new Uint8Array(Math.min(maxBytes + 1, 64 * 1024));
    for (;;) {
      const n = file.read(buf);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) {
        return { kind: "bad", reason: `larger than ${sizeText(maxBytes)} (grew while read)` };
      }
      chunks.push(buf.slice(0, n));
    }
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    try {
      return { kind: "ok", text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
    } catch {
      return { kind: "bad", reason: "not UTF-8 text" };
    }
  } catch (error) {
    if (error instanceof SyscallError) {
      return { kind: "error", reason: `cannot read it: ${error.code}` };
    }
    throw error;
  }
}

/** `pins.json.bad-20261130T135225Z` for a file set aside at `nowMs`. Pure. */
export function asidePath(path: string, nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${path}.bad-${stamp}`;
}

/**
 * Move a bad state file out of the way (the directory entry itself: a link
 * is moved, not its target). Returns where it went; throws when it cannot.
 */
export function setAside(path: string, nowMs: number): string {
  const base = asidePath(path, nowMs);
  for (let n = 0; n < 100; n++) {
    const target = n === 0 ? base : `${base}.${n}`;
    try {
      Deno.lstatSync(target);
      continue; // taken (two bad files within a second)
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    Deno.renameSync(path, target);
    return target;
  }
  throw new Error(`too many files set aside as ${base}`);
}

/**
 * A failed write, said without the temp file's random name (a failure that
 * repeats reads the same each time); `code` is the errno name, or the error's
 * kind when it has none.
 */
export class StateWriteError extends Error {
  override readonly name = "StateWriteError";
  readonly code: string;

  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** `error` as a StateWriteError: its text without the "op 'path'" Deno appends. */
function writeError(error: unknown): StateWriteError {
  if (error instanceof StateWriteError) return error;
  const code = (error as { code?: unknown }).code;
  const kind = typeof code === "string" ? code : error instanceof Error ? error.name : "Error";
  const text = errorMessage(error);
  return new StateWriteError(text.replace(/: [a-z_]+ '.*'$/s, ""), kind);
}

/**
 * Replace `path` with `text` atomically (creating its directory). Throws a
 * StateWriteError on failure.
 */
export function writeStateFile(path: string, text: string, maxBytes = STATE_FILE_MAX_BYTES): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > maxBytes) {
    throw new StateWriteError(
      `refusing to write ${bytes.length} bytes (over ${sizeText(maxBytes)})`,
      "EFBIG",
    );
  }
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    Deno.mkdirSync(dirOf(path), { recursive: true, mode: 0o755 });
    Deno.writeFileSync(temp, bytes, { createNew: true, mode: 0o644 });
    Deno.renameSync(temp, path);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch { /* never created, or already renamed */ }
    throw writeError(error);
  }
}

/** Remove `path` (a link itself, not its target); a missing file is fine. */
export function removeStateFile(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/**
 * Read `path` and decode it; a bad file (unreadable as a state file, or
 * `decode` refuses it) is set aside. Returns the value (null: nothing usable)
 * and at most one warning, which names the file and the reason, never its
 * content. `label` starts the warning ("pins", "ownership record").
 */
export function loadStateFile<T>(
  path: string,
  label: string,
  decode: (text: string) => { ok: true; value: T } | { ok: false; reason: string },
  nowMs: number,
): { value: T | null; warning: string | null } {
  const read = readStateFile(path);
  if (read.kind === "missing") return { value: null, warning: null };
  if (read.kind === "error") return { value: null, warning: `${label}: ${path}: ${read.reason}` };
  let reason: string;
  if (read.kind === "ok") {
    const decoded = decode(read.text);
    if (decoded.ok) return { value: decoded.value, warning: null };
    reason = decoded.reason;
  } else {
    reason = read.reason;
  }
  try {
    const aside = setAside(path, nowMs);
    return { value: null, warning: `${label}: ${path}: ${reason}; moved aside to ${aside}` };
  } catch (error) {
    return {
      value: null,
      warning: `${label}: ${path}: ${reason}; ignored (could not move it aside: ${
        errorMessage(error)
      })`,
    };
  }
}

/**
 * Passes a warning on only when it differs from the last one passed: a state
 * file read every tick that stays bad (one that cannot be moved aside) is
 * reported once, and again only once it changes or after it was fine.
 */
export class ReportOnce {
  #last: string | null = null;

  /** The warnings to emit now for this read's warning (null: the read was fine). */
  filter(warning: string | null): string[] {
    if (warning === this.#last) return [];
    this.#last = warning;
    return warning === null ? [] : [warning];
  }
}
