/**
 * The numeric entries of a directory (pids in /proc, tids in /proc/PID/task),
 * read with getdents64(2) into one kept buffer and turned into numbers where
 * they lie. Deno.readDirSync makes an object and a string per entry (2000 of
 * each per scan, every tick) for names that are only ever numbers here.
 */
import { SyscallError } from "../ffi/errno.ts";
import { libc, O_CLOEXEC, O_DIRECTORY } from "../ffi/libc.ts";
import { isGone } from "./small_read.ts";

/** struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16 at 16, d_type u8, d_name at 19. */
const RECLEN_AT = 16;
const NAME_AT = 19;
const DIGIT_0 = 0x30;

let buffer = new Uint8Array(32 * 1024);
const MAX_BUFFER = 1024 * 1024;

/**
 * The entries of the directory at `cPath` (NUL-terminated) whose names are
 * all digits, as numbers in ascending order; null when the directory is gone
 * (ENOENT, ESRCH) or hidden from us (EACCES: hidepid). Any other failure is
 * thrown.
 */
export function numericEntriesOrGone(cPath: Uint8Array<ArrayBuffer>): number[] | null {
  const lib = libc();
  for (;;) {
    let fd: number;
    try {
      fd = lib.openC(cPath, O_DIRECTORY | O_CLOEXEC);
    } catch (error) {
      if (isGone(error) || (error instanceof SyscallError && error.code === "EACCES")) {
        return null;
      }
      throw error;
    }
    try {
      const ids: number[] = [];
      for (let length; (length = lib.getdents64(fd, buffer)) > 0;) {
        numericNames(buffer, length, ids);
      }
      return ids.sort((a, b) => a - b);
    } catch (error) {
      // EINVAL: one record is larger than the buffer; read again with a bigger one.
      if (error instanceof SyscallError && error.code === "EINVAL" && buffer.length < MAX_BUFFER) {
        buffer = new Uint8Array(buffer.length * 2);
        continue;
      }
      if (isGone(error)) return null;
      throw error;
    } finally {
      lib.close(fd);
    }
  }
}

/** Append to `ids` the all-digit names of the records in `records[0, length)`. */
export function numericNames(records: Uint8Array, length: number, ids: number[]): void {
  for (let at = 0; at + NAME_AT < length;) {
    const recordLength = records[at + RECLEN_AT]! | (records[at + RECLEN_AT + 1]! << 8);
    // A record never has length 0; a corrupt one must not loop forever.
    if (recordLength === 0) return;
    let value = 0;
    let digits = 0;
    for (let i = at + NAME_AT; i < at + recordLength; i++) {
      const c = records[i]!;
      if (c === 0) break;
      if (c < DIGIT_0 || c > DIGIT_0 + 9) {
        digits = 0;
        break;
      }
      value = value * 10 + (c - DIGIT_0);
      digits++;
    }
    if (digits > 0) ids.push(value);
    at += recordLength;
  }
}
