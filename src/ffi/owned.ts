/**
 * Owners of the two raw kernel resources waspd holds through libc: a file
 * descriptor and an anonymous memory mapping. Each is released exactly once,
 * by `using` at the end of a scope or by an explicit close()/unmap(), whichever
 * comes first: the second release is a no-op, so an early close on the happy
 * path and the dispose on the way out never meet the same fd twice.
 *
 * The explicit release reports failure (a /proc/mitosis write is answered by
 * close(2)); the dispose never throws, because it runs on error paths too and
 * would hide the error that got there.
 *
 * Use: `using file = OwnedFd.open(path, flags)`, `using mapping = Mapping.anonymous(bytes)`.
 */
import { type Libc, libc } from "./libc.ts";

/** One open file descriptor, closed once. */
export class OwnedFd implements Disposable {
  readonly #lib: Libc;
  readonly #fd: number;
  #closed = false;

  /** Take ownership of `fd`, already open. */
  constructor(fd: number, lib: Libc = libc()) {
    this.#fd = fd;
    this.#lib = lib;
  }

  /** open(2) `path` with `flags`; the fd is owned from here on. */
  static open(path: string, flags: number, lib: Libc = libc()): OwnedFd {
    return new OwnedFd(lib.open(path, flags), lib);
  }

  /** The descriptor; throws once closed (a closed number may already be someone else's fd). */
  get fd(): number {
    if (this.#closed) throw new Error(`fd ${this.#fd} is closed`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** write(2) all of `bytes` in one call; returns the count written. */
  write(bytes: Uint8Array<ArrayBuffer>): number {
    return this.#lib.write(this.fd, bytes);
  }

  /** read(2) into `buf`; returns the count read. */
  read(buf: Uint8Array<ArrayBuffer>): number {
    return this.#lib.read(this.fd, buf);
  }

  /**
   * close(2), once; a second call does nothing. Throws the kernel's answer
   * when close fails (the fd is released either way on Linux).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lib.close(this.#fd);
  }

  [Symbol.dispose](): void {
    try {
      this.close();
    } catch {
      // EBADF/EINTR/EIO at release leave nothing to undo.
    }
  }
}

/** One anonymous private read-write mapping, unmapped once. */
export class Mapping implements Disposable {
  readonly #lib: Libc;
  readonly pointer: Deno.PointerObject;
  readonly byteLength: number;
  #unmapped = false;

  private constructor(pointer: Deno.PointerObject, byteLength: number, lib: Libc) {
    this.pointer = pointer;
    this.byteLength = byteLength;
    this.#lib = lib;
  }

  /** mmap(2) `byteLength` anonymous bytes (nothing is touched yet). */
  static anonymous(byteLength: number, lib: Libc = libc()): Mapping {
    return new Mapping(lib.mmapAnonymous(byteLength), byteLength, lib);
  }

  get unmapped(): boolean {
    return this.#unmapped;
  }

  /** The mapping's bytes as an ArrayBuffer; must not be used after unmap. */
  arrayBuffer(): ArrayBuffer {
    if (this.#unmapped) throw new Error("mapping is unmapped");
    return Deno.UnsafePointerView.getArrayBuffer(this.pointer, this.byteLength);
  }

  /** munmap(2), once; a second call does nothing. Throws when the kernel refuses. */
  unmap(): void {
    if (this.#unmapped) return;
    this.#unmapped = true;
    this.#lib.munmap(this.pointer, this.byteLength);
  }

  [Symbol.dispose](): void {
    try {
      this.unmap();
    } catch {
      // A range we mapped ourselves: nothing sensible is left to do.
    }
  }
}
