/**
 * The only `Deno.dlopen` in waspd: libc symbols with their C types, wrapped in
 * functions that turn a failing return into a typed {@link SyscallError}.
 *
 * Why this shape:
 * - `prctl` and `syscall` are variadic in C. Deno FFI cannot call a variadic
 *   function, so each use gets its own alias with the exact arity, and every
 *   variadic slot is 64-bit (what the x86-64 ABI passes in a register anyway).
 * - errno is per thread and any later Deno op may overwrite it, so it is read
 *   through an `Int32Array` over `__errno_location()` immediately after the
 *   call, with nothing in between.
 * - A Worker is its own thread with its own module instance: importing this
 *   module in a Worker opens libc again for that thread, which is what
 *   `sched_setaffinity(0, ...)` and errno need. No call is `nonblocking`: those
 *   run on another thread and would pin or read errno of the wrong one.
 */
import { SyscallError, UnsupportedArchError } from "./errno.ts";

/** x86-64 system-call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
export const SYS = {
  gettid: 186,
  sched_setaffinity: 203,
  sched_getaffinity: 204,
  mbind: 237,
  set_mempolicy: 238,
  get_mempolicy: 239,
  move_pages: 279,
  perf_event_open: 298,
  getdents64: 217,
} as const;

/**
 * libc's syscall(long number, ...) bound with these argument types after the
 * number; it returns a long (-1 and errno on failure).
 */
function syscall<const P extends readonly Deno.NativeType[]>(...args: P) {
  return { name: "syscall", parameters: ["i64", ...args], result: "i64" } as const;
}

const SYMBOLS = {
  /** int *__errno_location(void) */
  __errno_location: { parameters: [], result: "pointer" },
  /** int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5) */
  prctl: {
    name: "prctl",
    parameters: ["i32", "u64", "u64", "u64", "u64"],
    result: "i32",
  },
  /** int prctl(int option, int32_t *arg2, pid_t arg3 (64-bit slot), 0, 0): steering get/set */
  prctl_buffer: {
    name: "prctl",
    parameters: ["i32", "buffer", "u64", "u64", "u64"],
    result: "i32",
  },
  /** long syscall(SYS_perf_event_open, struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags) */
  syscall_perf_event_open: syscall("buffer", "i64", "i64", "i64", "u64"),
  /** long syscall(SYS_mbind, void *addr, unsigned long len, int mode, const unsigned long *nodemask, unsigned long maxnode, unsigned flags) */
  syscall_mbind: syscall("pointer", "u64", "i64", "buffer", "u64", "u64"),
  /** long syscall(SYS_get_mempolicy, int *mode, unsigned long *nodemask, unsigned long maxnode, void *addr, unsigned long flags) */
  syscall_get_mempolicy: syscall("buffer", "buffer", "u64", "pointer", "u64"),
  /** long syscall(SYS_move_pages, pid_t pid, unsigned long count, void **pages, const int *nodes, int *status, int flags) */
  syscall_move_pages: syscall("i64", "u64", "buffer", "buffer", "buffer", "i64"),
  /** long syscall(SYS_sched_setaffinity / SYS_sched_getaffinity, pid_t pid, size_t len, cpu_set_t *mask) */
  syscall_affinity: syscall("i64", "u64", "buffer"),
  /** long syscall(SYS_getdents64, unsigned int fd, struct linux_dirent64 *dirp, unsigned int count) */
  syscall_getdents64: syscall("i64", "buffer", "u64"),
  /** long syscall(SYS_gettid) */
  syscall_0: syscall(),
  /** void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) */
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  /** int munmap(void *addr, size_t length) */
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  /** int madvise(void *addr, size_t length, int advice) */
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  /** int clock_gettime(clockid_t clk, struct timespec *tp) */
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  /** int mprotect(void *addr, size_t len, int prot) */
  mprotect: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  /** int sched_getcpu(void) */
  sched_getcpu: { parameters: [], result: "i32" },
  /** ssize_t read(int fd, void *buf, size_t count) */
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** ssize_t pread(int fd, void *buf, size_t count, off_t offset) */
  pread: { parameters: ["i32", "buffer", "usize", "i64"], result: "isize" },
  /** int close(int fd) */
  close: { parameters: ["i32"], result: "i32" },
  /** int open(const char *pathname, int flags, mode_t mode (variadic: 64-bit slot)) */
  open: { parameters: ["buffer", "i32", "u64"], result: "i32" },
  /** int fstat(int fd, struct stat *statbuf) (a real symbol since glibc 2.33) */
  fstat: { parameters: ["i32", "buffer"], result: "i32" },
  /** ssize_t write(int fd, const void *buf, size_t count) */
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** int getrlimit(int resource, struct rlimit *rlim) */
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  /** int setrlimit(int resource, const struct rlimit *rlim) */
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  /** uid_t geteuid(void) */
  geteuid: { parameters: [], result: "u32" },
  /** int ftruncate(int fd, off_t length) */
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  /** int flock(int fd, int operation) */
  flock: { parameters: ["i32", "i32"], result: "i32" },
  /** int fcntl(int fd, int cmd, long arg (variadic: 64-bit slot)): F_GETFL / F_SETFL */
  fcntl: { parameters: ["i32", "i32", "u64"], result: "i32" },
  /** int socket(int domain, int type, int protocol) */
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  /** ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t addrlen) */
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
} as const satisfies Deno.ForeignLibraryInterface;

type LibcSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

// mmap / madvise constants (include/uapi/asm-generic/mman*.h).
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
// mempolicy (include/uapi/linux/mempolicy.h).
export const MPOL_BIND = 2;
export const MPOL_F_NODE = 1 << 0;
export const MPOL_F_ADDR = 1 << 1;
export const MPOL_MF_STRICT = 1 << 0;
// open(2) flags (include/uapi/asm-generic/fcntl.h).
export const O_RDONLY = 0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
/** The access-mode bits of the flags (O_RDONLY, O_WRONLY or O_RDWR). */
export const O_ACCMODE = 0o3;
export const O_CREAT = 0o100;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
// fcntl(2) commands (include/uapi/asm-generic/fcntl.h).
export const F_GETFL = 3;
export const F_SETFL = 4;
// flock(2) operations (include/uapi/asm-generic/fcntl.h).
export const LOCK_EX = 2;
export const LOCK_NB = 4;
// st_mode file types (include/uapi/linux/stat.h).
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
// socket(2) (include/linux/socket.h, include/linux/net.h).
export const AF_UNIX = 1;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = O_CLOEXEC;
/** sendto(2) flag: a peer that went away is an error (EPIPE), never a SIGPIPE. */
export const MSG_NOSIGNAL = 0x4000;
/** sendto(2) flag: a full receive queue is EAGAIN, never a wait. */
export const MSG_DONTWAIT = 0x40;
// getrlimit resources.
export const RLIMIT_NOFILE = 7;

/** Largest node number a node mask built here can carry (1024 bits, as libnuma). */
export const MAX_NUMA_NODES = 1024;
const MASK_WORDS = MAX_NUMA_NODES / 64;

class Libc {
  readonly #symbols: LibcSymbols;
  readonly #errno: Int32Array;

  constructor() {
    if (Deno.build.os !== "linux") {
      throw new Error(`waspd needs Linux (this is ${Deno.build.os})`);
    }
    if (Deno.build.arch !== "x86_64") throw new UnsupportedArchError(Deno.build.arch);
    const lib = Deno.dlopen("libc.so.6", SYMBOLS);
    this.#symbols = lib.symbols;
    const errnoPtr = lib.symbols.__errno_location();
    if (errnoPtr === null) throw new Error("__errno_location() returned NULL");
    this.#errno = new Int32Array(Deno.UnsafePointerView.getArrayBuffer(errnoPtr, 4));
  }

  /** Throw a SyscallError when `rc` is -1; errno must be read before anything else runs. */
  #check(call: string, rc: number | bigint): number {
    if (rc === -1 || rc === -1n) throw new SyscallError(call, this.#errno[0] ?? 0);
    return Number(rc);
  }

  /**
   * {@link #check} for the fd calls a /proc scan makes thousands of times per
   * tick: the message `name(fd N)` is built only when the call failed (errno
   * read first), not as a string per call for the collector.
   */
  #checkFd(rc: number | bigint, name: string, fd: number): number {
    if (rc !== -1 && rc !== -1n) return Number(rc);
    const errno = this.#errno[0] ?? 0;
    throw new SyscallError(`${name}(fd ${fd})`, errno);
  }

  prctl(option: number, arg2: number | bigint, arg3: number | bigint): number {
    const rc = this.#symbols.prctl(option, BigInt(arg2), BigInt(arg3), 0n, 0n);
    return this.#check(`prctl(${option}, ${arg2}, ${arg3})`, rc);
  }

  prctlBuffer(option: number, buffer: Int32Array<ArrayBuffer>, arg3: number): number {
    const rc = this.#symbols.prctl_buffer(option, buffer, BigInt(arg3), 0n, 0n);
    return this.#check(`prctl(${option}, int32[${buffer.length}], ${arg3})`, rc);
  }

  perfEventOpen(
    attr: Uint8Array<ArrayBuffer>,
    pid: number,
    cpu: number,
    groupFd: number,
    flags: number,
  ): number {
    const rc = this.#symbols.syscall_perf_event_open(
      BigInt(SYS.perf_event_open),
      attr,
      BigInt(pid),
      BigInt(cpu),
      BigInt(groupFd),
      BigInt(flags),
    );
    return this.#check(`perf_event_open(pid ${pid}, cpu ${cpu})`, rc);
  }

  /** Bind [addr, addr+len) to `nodes` with `mode` (MPOL_BIND etc.). */
  mbind(addr: Deno.PointerValue, len: number, mode: number, nodes: number[], flags = 0): void {
    const mask = nodeMask(nodes);
    const rc = this.#symbols.syscall_mbind(
      BigInt(SYS.mbind),
      addr,
      BigInt(len),
      BigInt(mode),
      mask,
      BigInt(MAX_NUMA_NODES + 1),
      BigInt(flags),
    );
    this.#check(`mbind(nodes ${nodes.join(",")})`, rc);
  }

  /** The node holding the page at `addr` (get_mempolicy with MPOL_F_NODE|MPOL_F_ADDR). */
  nodeOfAddress(addr: Deno.PointerValue): number {
    const mode = new Int32Array(1);
    const rc = this.#symbols.syscall_get_mempolicy(
      BigInt(SYS.get_mempolicy),
      mode,
      null,
      0n,
      addr,
      BigInt(MPOL_F_NODE | MPOL_F_ADDR),
    );
    this.#check("get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR)", rc);
    return mode[0] ?? -1;
  }

  /** The policy mode and node set governing `addr` (get_mempolicy with MPOL_F_ADDR). */
  policyOfAddress(addr: Deno.PointerValue): { mode: number; nodes: number[] } {
    const mode = new Int32Array(1);
    const mask = new BigUint64Array(MASK_WORDS);
    const rc = this.#symbols.syscall_get_mempolicy(
      BigInt(SYS.get_mempolicy),
      mode,
      mask,
      BigInt(MAX_NUMA_NODES),
      addr,
      BigInt(MPOL_F_ADDR),
    );
    this.#check("get_mempolicy(MPOL_F_ADDR)", rc);
    return { mode: mode[0] ?? -1, nodes: maskNodes(mask) };
  }

  /**
   * move_pages in query mode (nodes = NULL): for each page address, the node it
   * is on, or a negative errno (-ENOENT: not present, -EFAULT: not mapped).
   */
  queryPageNodes(pid: number, pages: BigUint64Array<ArrayBuffer>): Int32Array {
    const status = new Int32Array(pages.length);
    const rc = this.#symbols.syscall_move_pages(
      BigInt(SYS.move_pages),
      BigInt(pid),
      BigInt(pages.length),
      pages,
      null,
      status,
      0n,
    );
    this.#check(`move_pages(query, ${pages.length} pages)`, rc);
    return status;
  }

  /** Pin thread `tid` (0 = the calling thread) to `cpus`. */
  setAffinity(tid: number, cpus: number[]): void {
    const mask = cpuMask(cpus);
    const rc = this.#symbols.syscall_affinity(
      BigInt(SYS.sched_setaffinity),
      BigInt(tid),
      BigInt(mask.byteLength),
      mask,
    );
    this.#check(`sched_setaffinity(${tid}, cpus ${cpus.join(",")})`, rc);
  }

  /** CPUs thread `tid` (0 = calling thread) may run on. */
  getAffinity(tid: number): number[] {
    const mask = new BigUint64Array(MASK_WORDS);
    const rc = this.#symbols.syscall_affinity(
      BigInt(SYS.sched_getaffinity),
      BigInt(tid),
      BigInt(mask.byteLength),
      mask,
    );
    this.#check(`sched_getaffinity(${tid})`, rc);
    return maskNodes(mask);
  }

  gettid(): number {
    return this.#check("gettid()", this.#symbols.syscall_0(BigInt(SYS.gettid)));
  }

  /** Anonymous private mapping of `len` bytes. */
  mmapAnonymous(len: number, extraFlags = 0): Deno.PointerObject {
    const ptr = this.#symbols.mmap(
      null,
      BigInt(len),
      PROT_READ | PROT_WRITE,
      MAP_PRIVATE | MAP_ANONYMOUS | extraFlags,
      -1,
      0n,
    );
    // MAP_FAILED is (void *)-1.
    if (ptr === null || Deno.UnsafePointer.value(ptr) === 0xffffffffffffffffn) {
      throw new SyscallError(`mmap(${len} bytes)`, this.#errno[0] ?? 0);
    }
    return ptr;
  }

  munmap(addr: Deno.PointerObject, len: number): void {
    this.#check(`munmap(${len} bytes)`, this.#symbols.munmap(addr, BigInt(len)));
  }

  madvise(addr: Deno.PointerObject, len: number, advice: number): void {
    this.#check(`madvise(${advice})`, this.#symbols.madvise(addr, BigInt(len), advice));
  }

  /** CPU time of the calling thread, ms (CLOCK_THREAD_CPUTIME_ID; not wall time lost to others). */
  threadCpuMs(): number {
    const ts = new BigInt64Array(2);
    this.#check("clock_gettime(CLOCK_THREAD_CPUTIME_ID)", this.#symbols.clock_gettime(3, ts));
    return Number(ts[0]!) * 1000 + Number(ts[1]!) / 1e6;
  }

  /** CLOCK_MONOTONIC in microseconds: the clock systemd's MONOTONIC_USEC= is read on. */
  monotonicUsec(): bigint {
    const ts = new BigInt64Array(2);
    this.#check("clock_gettime(CLOCK_MONOTONIC)", this.#symbols.clock_gettime(1, ts));
    return ts[0]! * 1_000_000n + ts[1]! / 1000n;
  }

  mprotect(addr: Deno.PointerObject, len: number, prot: number): void {
    this.#check(`mprotect(${prot})`, this.#symbols.mprotect(addr, BigInt(len), prot));
  }

  schedGetcpu(): number {
    return this.#check("sched_getcpu()", this.#symbols.sched_getcpu());
  }

  /** read(2) into `buf`; returns the byte count. */
  read(fd: number, buf: Uint8Array<ArrayBuffer>): number {
    return this.#checkFd(this.#symbols.read(fd, buf, this.#count(buf.byteLength)), "read", fd);
  }

  /** pread(2) into `buf` from `offset`; returns the byte count. */
  pread(fd: number, buf: Uint8Array<ArrayBuffer>, offset: number): number {
    const rc = this.#symbols.pread(fd, buf, this.#count(buf.byteLength), BigInt(offset));
    return this.#checkFd(rc, "pread", fd);
  }

  #lastCount = 0;
  #lastCountBig = 0n;
  /** `n` as the bigint a size_t slot takes, without a new bigint per call when `n` repeats. */
  #count(n: number): bigint {
    if (n !== this.#lastCount) {
      this.#lastCount = n;
      this.#lastCountBig = BigInt(n);
    }
    return this.#lastCountBig;
  }

  close(fd: number): void {
    this.#checkFd(this.#symbols.close(fd), "close", fd);
  }

  /** getdents64(2): directory records into `buf`; returns the byte count (0 at the end). */
  getdents64(fd: number, buf: Uint8Array<ArrayBuffer>): number {
    const rc = this.#symbols.syscall_getdents64(
      BigInt(SYS.getdents64),
      BigInt(fd),
      buf,
      this.#count(buf.byteLength),
    );
    return this.#checkFd(rc, "getdents64", fd);
  }

  /** flock(2): `LOCK_EX | LOCK_NB` throws EWOULDBLOCK (EAGAIN) when another holds it. */
  flock(fd: number, operation: number): void {
    this.#check(`flock(fd ${fd})`, this.#symbols.flock(fd, operation));
  }

  /** The file status flags of `fd` (fcntl F_GETFL): O_NONBLOCK, O_APPEND, the access mode. */
  getFlags(fd: number): number {
    return this.#checkFd(this.#symbols.fcntl(fd, F_GETFL, 0n), "fcntl(F_GETFL)", fd);
  }

  /** Set the file status flags of `fd` (fcntl F_SETFL; the kernel takes O_NONBLOCK and O_APPEND). */
  setFlags(fd: number, flags: number): void {
    this.#checkFd(this.#symbols.fcntl(fd, F_SETFL, BigInt(flags)), "fcntl(F_SETFL)", fd);
  }

  /** ftruncate(2): cut the open file to `length` bytes. */
  ftruncate(fd: number, length: number): void {
    this.#check(`ftruncate(fd ${fd})`, this.#symbols.ftruncate(fd, BigInt(length)));
  }

  /** open(2) with `flags` (O_WRONLY...); `path` is NUL-terminated here. */
  open(path: string, flags: number, mode = 0): number {
    return this.openC(cString(path), flags, mode);
  }

  /** open(2) of a path already NUL-terminated (see `cString`; bytes after the NUL are ignored). */
  openC(cPath: Uint8Array<ArrayBuffer>, flags: number, mode = 0): number {
    // C reads the path up to its NUL: without one it would read past the buffer.
    if (!cPath.includes(0)) throw new TypeError("open: the path is not NUL-terminated");
    const rc = this.#symbols.open(cPath, flags, mode === 0 ? 0n : BigInt(mode));
    if (rc !== -1) return rc;
    const errno = this.#errno[0] ?? 0;
    const path = C_PATH_DECODER.decode(cPath.subarray(0, cPath.indexOf(0)));
    throw new SyscallError(`open(${path})`, errno);
  }

  /**
   * fstat(2): the file type bits of st_mode and st_size (x86-64 `struct stat`:
   * 144 bytes, st_mode a u32 at offset 24, st_size an i64 at offset 48).
   */
  fstat(fd: number): { mode: number; size: number } {
    const buf = new Uint8Array(144);
    this.#check(`fstat(fd ${fd})`, this.#symbols.fstat(fd, buf));
    const view = new DataView(buf.buffer);
    return { mode: view.getUint32(24, true), size: Number(view.getBigInt64(48, true)) };
  }

  /** write(2) of `buf`; returns the byte count. */
  write(fd: number, buf: Uint8Array<ArrayBuffer>): number {
    return this.#check(`write(fd ${fd})`, this.#symbols.write(fd, buf, BigInt(buf.byteLength)));
  }

  /** socket(2); returns the fd. */
  socket(domain: number, type: number, protocol = 0): number {
    return this.#check(`socket(${domain}, ${type})`, this.#symbols.socket(domain, type, protocol));
  }

  /** sendto(2) of all of `buf` to the address `addr` (its length is the address length). */
  sendto(
    fd: number,
    buf: Uint8Array<ArrayBuffer>,
    flags: number,
    addr: Uint8Array<ArrayBuffer>,
  ): number {
    const rc = this.#symbols.sendto(fd, buf, BigInt(buf.byteLength), flags, addr, addr.byteLength);
    return this.#check(`sendto(fd ${fd})`, rc);
  }

  getrlimit(resource: number): { soft: bigint; hard: bigint } {
    const buf = new BigUint64Array(2);
    this.#check(`getrlimit(${resource})`, this.#symbols.getrlimit(resource, buf));
    return { soft: buf[0] ?? 0n, hard: buf[1] ?? 0n };
  }

  setrlimit(resource: number, soft: bigint, hard: bigint): void {
    const buf = new BigUint64Array([soft, hard]);
    this.#check(`setrlimit(${resource})`, this.#symbols.setrlimit(resource, buf));
  }

  geteuid(): number {
    return this.#symbols.geteuid();
  }
}

const C_PATH_ENCODER = new TextEncoder();
const C_PATH_DECODER = new TextDecoder();

/** `path` as the NUL-terminated bytes C expects. */
export function cString(path: string): Uint8Array<ArrayBuffer> {
  return C_PATH_ENCODER.encode(`${path}\0`);
}

let instance: Libc | undefined;

/** This thread's libc (opened on first use; each Worker opens its own). */
export function libc(): Libc {
  instance ??= new Libc();
  return instance;
}

export type { Libc };

/** A `unsigned long[]` node mask with the given bits set (as mbind expects). */
export function nodeMask(nodes: readonly number[]): BigUint64Array<ArrayBuffer> {
  const mask = new BigUint64Array(MASK_WORDS);
  for (const node of nodes) {
    if (!Number.isInteger(node) || node < 0 || node >= MAX_NUMA_NODES) {
      throw new RangeError(`node ${node} is outside 0..${MAX_NUMA_NODES - 1}`);
    }
    const word = node >> 6;
    mask[word] = (mask[word] ?? 0n) | (1n << BigInt(node & 63));
  }
  return mask;
}

/** A cpu_set_t-compatible mask (same bit layout as a node mask). */
export const cpuMask = nodeMask;

/** The bit numbers set in a mask. */
export function maskNodes(mask: BigUint64Array): number[] {
  const out: number[] = [];
  mask.forEach((word, i) => {
    for (let bit = 0; word !== 0n && bit < 64; bit++) {
      if ((word >> BigInt(bit)) & 1n) out.push(i * 64 + bit);
    }
  });
  return out;
}
