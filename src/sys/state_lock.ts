/**
 * The enforcing daemon's claim on a state directory: an exclusive flock(2)
 * on `waspd.lock` next to owned.json, held for as long as it runs. Two
 * enforcing waspd on one machine would take over each other's processes and
 * overwrite each other's ownership record; the lock makes the second one
 * refuse to start. The kernel drops the lock when its holder dies, however it
 * dies (SIGKILL included), so a stale lock file never blocks the next waspd.
 * The file holds the holder's pid, for the refusal message only.
 *
 * Only a regular file is a lock: a link would lock (and write the pid into)
 * whatever it points at, and a FIFO, directory or device cannot be locked
 * at all (a FIFO's open even waits for a writer). Anything else at the name
 * stops every waspd there with one line (`LockUnusable`) until an operator
 * removes it: silently running without the lock would let two enforcing
 * daemons take over each other's processes.
 */
import { LockUnusable } from "../core/ownership_record.ts";
import { SyscallError } from "../ffi/errno.ts";
import {
  libc,
  LOCK_EX,
  LOCK_NB,
  O_CLOEXEC,
  O_CREAT,
  O_NOCTTY,
  O_NOFOLLOW,
  O_NONBLOCK,
  O_RDONLY,
  O_WRONLY,
  S_IFMT,
  S_IFREG,
} from "../ffi/libc.ts";
import { OwnedFd } from "../ffi/owned.ts";
import { readStateFile, typeName } from "./state_file.ts";

export const LOCK_FILE_NAME = "waspd.lock";
const CLAIM_RETRIES = 3;
const CLAIM_RETRY_MS = 50;

/** Block this thread (start-up only, a few tens of ms). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A held lock: `release()` gives it up (at shutdown; exit does it anyway). */
export interface StateLock {
  release(): void;
}

/**
 * Take the lock on `path`, or say who holds it (a string) when another
 * process does. A lock that cannot be taken at all (read-only /run, no
 * permission) holds nothing: the record's own writes report that, and the
 * lock must not turn a protection into an outage. Throws `LockUnusable` when
 * something other than a regular file is at `path`, whether claiming or probing.
 */
export function lockStateFile(
  path: string,
  selfPid: number,
  create = true,
): StateLock | string {
  const lib = libc();
  // A probe (`create` false: advisory mode, --once) only asks whether a
  // daemon holds the lock; it must leave no file or directory behind, and
  // a lock file that is not there is held by nobody.
  // A probe opens read-only (flock does not care): a user who may not write
  // the file can still tell whether it is held.
  refuseUnusable(path);
  // O_NOFOLLOW | O_NONBLOCK: a link or FIFO swapped in after the lstat fails the open, never hangs it.
  const flags = (create ? O_WRONLY | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
    O_CLOEXEC;
  let file: OwnedFd;
  try {
    if (create) Deno.mkdirSync(path.replace(/\/[^/]*$/, "") || ".", { recursive: true });
    file = new OwnedFd(lib.open(path, flags, 0o644), lib);
  } catch (error) {
    // ELOOP: a link; EISDIR: a directory; ENXIO: a FIFO with no reader, or a socket.
    if (error instanceof SyscallError && UNUSABLE_ERRNOS.has(error.code)) {
      throw new LockUnusable(unusableLine(path, `not a regular file (open: ${error.code})`));
    }
    if (create || (error instanceof SyscallError && error.code === "ENOENT")) {
      return { release: () => {} };
    }
    // A probe that cannot look must not conclude that nobody holds it.
    const why = error instanceof SyscallError ? error.code : "unreadable";
    return `${path} cannot be checked (${why}): another waspd may be enforcing`;
  }
  let regular = false;
  try {
    regular = (lib.fstat(file.fd).mode & S_IFMT) === S_IFREG;
  } catch { /* cannot tell: not a lock to trust */ }
  if (!regular) {
    file.close();
    throw new LockUnusable(unusableLine(path, "not a regular file (replaced while opening)"));
  }
  // A probe holds the lock for an instant: an enforcing waspd starting at that
  // very moment tries again a few times before it refuses.
  for (let attempt = 0;; attempt++) {
    try {
      lib.flock(file.fd, LOCK_EX | LOCK_NB);
      break;
    } catch (error) {
      const held = error instanceof SyscallError && error.code === "EAGAIN";
      if (held && create && attempt < CLAIM_RETRIES) {
        sleepSync(CLAIM_RETRY_MS);
        continue;
      }
      file.close();
      if (held) return holderOf(path);
      throw error;
    }
  }
  if (!create) return { release: () => file.close() };
  try {
    // Through the locked fd: the name may have been replaced since the open.
    lib.ftruncate(file.fd, 0);
    file.write(new TextEncoder().encode(`${selfPid}\n`));
  } catch {
    // The pid is for messages only: the lock is what counts.
  }
  return { release: () => file.close() };
}

const UNUSABLE_ERRNOS: ReadonlySet<string> = new Set(["ELOOP", "EISDIR", "ENXIO"]);

function unusableLine(path: string, what: string): string {
  return `${path} is ${what}: waspd cannot lock it, so no waspd starts on this state ` +
    "directory; remove it (waspd creates its own lock file)";
}

/** Throw LockUnusable when lstat finds anything but a regular file (nothing there is fine). */
function refuseUnusable(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return; // missing, or not visible to this user: the open says which
  }
  if (!info.isFile) throw new LockUnusable(unusableLine(path, typeName(info)));
}

function holderOf(path: string): string {
  // The hardened reader: what is at the name now may be anything.
  const read = readStateFile(path, 64);
  const pid = read.kind === "ok" ? read.text.trim().slice(0, 12) : "";
  const who = /^\d+$/.test(pid) ? `another waspd (pid ${pid})` : "another waspd";
  return `${who} is enforcing with this state directory (${path} is locked): ` +
    "stop it first, or give this one another --state-dir";
}
