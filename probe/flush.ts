/**
 * Cache-line flushing from JS: `clflush` is an x86 instruction no JS or Deno
 * API reaches, so a few bytes of machine code are written into an anonymous
 * page, the page is made read+exec with mprotect (never write+exec at once),
 * and the code is called through `Deno.UnsafeFnPointer`.
 *
 * Why flush: a chased line that was flushed right before the load must come
 * from DRAM, so a small buffer reads memory latency whatever the LLC size.
 * Without it, a buffer must be several times the LLC (128 MiB on a 32 MiB L3,
 * 1 GiB on a 260 MiB one), and mapping, faulting and writing that every
 * refresh is what made the daemon cost half a core.
 *
 * Where exec memory is refused (SELinux `execmem`, PaX/grsecurity, some
 * container profiles), mprotect fails with EACCES or EPERM: `openFlusher`
 * then says why, and the caller falls back to a method that does not flush.
 */
import { type Libc, PROT_EXEC, PROT_READ } from "../src/ffi/libc.ts";
import { SyscallError } from "../src/ffi/errno.ts";
import { Mapping } from "../src/ffi/owned.ts";
import { errorMessage } from "../src/core/error_message.ts";

/**
 * `void flush(void *p, u64 count, u64 stride)`, System V x86-64 (rdi, rsi, rdx):
 *
 *   0:  48 85 f6     test   rsi, rsi
 *   3:  74 0b        je     16
 *   5:  0f ae 3f     clflush [rdi]        (66 0f ae 3f: clflushopt [rdi])
 *   8:  48 01 d7     add    rdi, rdx
 *   11: 48 ff ce     dec    rsi
 *   14: eb f0        jmp    0
 *   16: 0f ae f0     mfence               (the flushes are done before any later load)
 *   19: c3           ret
 */
/** The flush of [rdi] at offset 5; clflushopt is clflush with a 0x66 prefix (flushes may overlap, mfence orders them). */
const FLUSH_RDI = {
  clflush: [0x0f, 0xae, 0x3f],
  clflushopt: [0x66, 0x0f, 0xae, 0x3f],
} as const;

/** The loop above around one flush instruction: the two rel8 jumps follow from its length. */
function flushLoop(flush: readonly number[]): number[] {
  const body = [...flush, 0x48, 0x01, 0xd7, 0x48, 0xff, 0xce]; // flush; add rdi, rdx; dec rsi
  const je = body.length + 2; // past the body and the jmp, to the mfence
  const jmp = -(5 + body.length + 2); // from after the jmp back to offset 0
  return [0x48, 0x85, 0xf6, 0x74, je, ...body, 0xeb, jmp & 0xff, 0x0f, 0xae, 0xf0, 0xc3];
}

export type FlushInstruction = "clflush" | "clflushopt";

/** The machine code of the flush loop for one instruction (pure data, tested). */
export function flushCode(instruction: FlushInstruction): Uint8Array {
  return new Uint8Array(flushLoop(FLUSH_RDI[instruction]));
}

/** clflushopt where /proc/cpuinfo lists it, else clflush (every x86-64 CPU has it). */
export function chooseInstruction(cpuinfoFlags: string | null): FlushInstruction {
  return cpuinfoFlags !== null && /\bclflushopt\b/.test(cpuinfoFlags) ? "clflushopt" : "clflush";
}

const PAGE_BYTES = 4096;
const FLUSH_SIGNATURE = { parameters: ["pointer", "u64", "u64"], result: "void" } as const;

/** An executable flush loop in its own page; dispose unmaps it (twice is harmless). */
export class Flusher implements Disposable {
  readonly instruction: FlushInstruction;
  readonly #page: Mapping;
  readonly #fn: Deno.UnsafeFnPointer<typeof FLUSH_SIGNATURE>;

  constructor(page: Mapping, instruction: FlushInstruction) {
    this.#page = page;
    this.instruction = instruction;
    this.#fn = new Deno.UnsafeFnPointer(page.pointer as Deno.PointerObject<never>, FLUSH_SIGNATURE);
  }

  /** Flush `count` lines from `base + offset`, `stride` bytes apart, then mfence. */
  flush(base: Deno.PointerObject, offset: number, count: number, stride: number): void {
    if (this.#page.unmapped) throw new Error("flusher used after dispose");
    const at = offset === 0 ? base : Deno.UnsafePointer.offset(base, offset);
    if (at === null) throw new RangeError("flush: null address");
    this.#fn.call(at, BigInt(count), BigInt(stride));
  }

  [Symbol.dispose](): void {
    this.#page[Symbol.dispose]();
  }
}

export type FlushSupport = { ok: true; flusher: Flusher } | { ok: false; reason: string };

function cpuinfoFlags(): string | null {
  try {
    const text = Deno.readTextFileSync("/proc/cpuinfo");
    return /^flags\s*:(.*)$/m.exec(text)?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * A flusher for this thread, or why there is none: not x86-64, or exec
 * memory refused. The page is written while read+write and only then made
 * read+exec: a W^X policy that forbids exec memory outright refuses the
 * mprotect, which is the case detected here.
 */
export function openFlusher(lib: Libc, instruction?: FlushInstruction): FlushSupport {
  if (Deno.build.arch !== "x86_64") {
    return { ok: false, reason: `no clflush on ${Deno.build.arch}` };
  }
  const chosen = instruction ?? chooseInstruction(cpuinfoFlags());
  using owned = new DisposableStack();
  let page: Mapping;
  try {
    page = owned.use(Mapping.anonymous(PAGE_BYTES, lib));
  } catch (error) {
    return { ok: false, reason: `code page: ${errorMessage(error)}` };
  }
  const code = flushCode(chosen);
  new Uint8Array(page.arrayBuffer(), 0, code.length).set(code);
  try {
    lib.mprotect(page.pointer, PAGE_BYTES, PROT_READ | PROT_EXEC);
  } catch (error) {
    const refused = error instanceof SyscallError &&
      (error.code === "EACCES" || error.code === "EPERM");
    return {
      ok: false,
      reason: refused
        ? `exec memory refused (mprotect PROT_EXEC: ${(error as SyscallError).code})`
        : `mprotect: ${errorMessage(error)}`,
    };
  }
  owned.move();
  return { ok: true, flusher: new Flusher(page, chosen) };
}
