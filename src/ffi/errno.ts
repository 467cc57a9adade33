/**
 * errno numbers (x86-64 / asm-generic) and the typed error every failing libc
 * call turns into. Only the names waspd can meet are listed; others print as
 * `E<number>` rather than being guessed.
 */

const ERRNO_NAMES: Readonly<Record<number, readonly [name: string, text: string]>> = {
  1: ["EPERM", "Operation not permitted"],
  2: ["ENOENT", "No such file or directory"],
  3: ["ESRCH", "No such process"],
  4: ["EINTR", "Interrupted system call"],
  5: ["EIO", "Input/output error"],
  6: ["ENXIO", "No such device or address"],
  7: ["E2BIG", "Argument list too long"],
  9: ["EBADF", "Bad file descriptor"],
  11: ["EAGAIN", "Resource temporarily unavailable"],
  12: ["ENOMEM", "Cannot allocate memory"],
  13: ["EACCES", "Permission denied"],
  14: ["EFAULT", "Bad address"],
  16: ["EBUSY", "Device or resource busy"],
  17: ["EEXIST", "File exists"],
  19: ["ENODEV", "No such device"],
  20: ["ENOTDIR", "Not a directory"],
  21: ["EISDIR", "Is a directory"],
  22: ["EINVAL", "Invalid argument"],
  23: ["ENFILE", "Too many open files in system"],
  24: ["EMFILE", "Too many open files"],
  28: ["ENOSPC", "No space left on device"],
  30: ["EROFS", "Read-only file system"],
  32: ["EPIPE", "Broken pipe"],
  38: ["ENOSYS", "Function not implemented"],
  40: ["ELOOP", "Too many levels of symbolic links"],
  95: ["EOPNOTSUPP", "Operation not supported"],
  114: ["EALREADY", "Operation already in progress"],
};

export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  EPIPE: 32,
  ENOSYS: 38,
  ELOOP: 40,
  EOPNOTSUPP: 95,
  EALREADY: 114,
} as const;

/** "EINVAL" for 22; "E999" for numbers this table does not know. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno]?.[0] ?? `E${errno}`;
}

/** "Invalid argument" for 22; "errno 999" for unknown numbers. */
export function errnoText(errno: number): string {
  return ERRNO_NAMES[errno]?.[1] ?? `errno ${errno}`;
}

/** A libc call or raw syscall that returned failure, with the errno it left. */
export class SyscallError extends Error {
  override readonly name = "SyscallError";
  /** The call as written for humans, e.g. `mbind(node 7)`. */
  readonly call: string;
  readonly errno: number;
  /** Symbolic errno name, e.g. `EINVAL`. */
  readonly code: string;

  constructor(call: string, errno: number) {
    super(`${call} failed: ${errnoName(errno)} (${errnoText(errno)})`);
    this.call = call;
    this.errno = errno;
    this.code = errnoName(errno);
  }
}

/** Raised on a machine whose syscall numbers waspd does not carry. */
export class UnsupportedArchError extends Error {
  override readonly name = "UnsupportedArchError";
  constructor(arch: string) {
    super(
      `waspd's system-call layer supports x86_64 only (this is ${arch}); ` +
        "refusing to guess syscall numbers",
    );
  }
}
