/**
 * Reading many small files (/proc/PID/stat, thousands per tick) through libc
 * into one kept buffer: open, one read (a second only when the buffer filled),
 * close. Measured with 2000 processes: 19-22 ms of CPU per scan against 24-28
 * ms for Deno.readTextFileSync, whose op allocates a buffer per file and
 * reads again for end of file.
 */
import { SyscallError } from "../ffi/errno.ts";
import { libc, O_CLOEXEC } from "../ffi/libc.ts";

let buffer = new Uint8Array(4096);
const decoder = new TextDecoder();

/** The file as text, or null when it does not exist (ENOENT, ESRCH: a process that went). */
export function readSmallTextOrGone(path: string): string | null {
  const lib = libc();
  let fd: number;
  try {
    fd = lib.open(path, O_CLOEXEC, 0);
  } catch (error) {
    if (error instanceof SyscallError && (error.code === "ENOENT" || error.code === "ESRCH")) {
      return null;
    }
    throw error;
  }
  try {
    let length = 0;
    for (;;) {
      const n = lib.read(fd, buffer.subarray(length));
      length += n;
      // A short read is the end: regular files and /proc's seq files fill what they can.
      if (n === 0 || length < buffer.length) break;
      const bigger = new Uint8Array(buffer.length * 2);
      bigger.set(buffer);
      buffer = bigger;
    }
    return decoder.decode(buffer.subarray(0, length));
  } catch (error) {
    // Reading the stat of a process that exited meanwhile fails with ESRCH.
    if (error instanceof SyscallError && error.code === "ESRCH") return null;
    throw error;
  } finally {
    lib.close(fd);
  }
}
