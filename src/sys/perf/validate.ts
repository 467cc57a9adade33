/**
 * Start-up check of an event set on the calling thread: open both events,
 * run a short busy loop that is sure to load memory and miss the TLB, read,
 * close. An event that fails to open, or opens but counts nothing or
 * nonsense, makes the set unusable, with the reason in words.
 *
 * Why a 4 KiB-page buffer: with transparent huge pages a few dozen 2 MiB
 * entries cover the whole buffer and a working walk event could honestly
 * count 0; with MADV_NOHUGEPAGE, 8192 pages overflow every L2 TLB waspd
 * knows (Zen 3: 2048 entries, Skylake-SP STLB: 1536), so walks must happen.
 */
import { libc, MADV_NOHUGEPAGE } from "../../ffi/libc.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { encodeAttr, parseRead, PERF_FLAG_FD_CLOEXEC, READ_BYTES } from "./attr.ts";
import type { RawCount } from "./attr.ts";
import type { EventSet, EventSpec } from "./events.ts";
import { explainImplausible, explainOpenFailure } from "./diagnose.ts";
import type { PerfEnvironment } from "./diagnose.ts";

const PAGE_BYTES = 4096;
const BUSY_PAGES = 8192;

export type Validation =
  | { ok: true; loads: RawCount; walks: RawCount }
  | { ok: false; code: string | null; reason: string };

/** Open one event on thread `tid` (0 = the calling thread), counting at once. */
export function openCounter(event: EventSpec, tid: number): number {
  const attr = encodeAttr({ type: event.type, config: event.config });
  return libc().perfEventOpen(attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/** read(2) one counter; null when the read came back short. */
export function readCounter(fd: number): RawCount | null {
  const buf = new Uint8Array(READ_BYTES);
  const n = libc().read(fd, buf);
  return parseRead(buf, n);
}

/** close(2), ignoring failure: the fd is ours and gone either way. */
export function closeCounter(fd: number): void {
  try {
    libc().close(fd);
  } catch {
    // EBADF/EINTR on close leave nothing to undo.
  }
}

/** Touch then re-read BUSY_PAGES pages of 4 KiB; returns a checksum so the JIT keeps the loads. */
function busyLoop(): number {
  const c = libc();
  const bytes = BUSY_PAGES * PAGE_BYTES;
  const ptr = c.mmapAnonymous(bytes);
  try {
    c.madvise(ptr, bytes, MADV_NOHUGEPAGE);
    const mem = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(ptr, bytes));
    for (let i = 0; i < bytes; i += PAGE_BYTES) mem[i] = i & 0xff;
    let sum = 0;
    for (let pass = 0; pass < 4; pass++) {
      // A stride of one page plus a line: a new page (and a new TLB entry) every load.
      for (let i = 0; i < bytes; i += PAGE_BYTES + 64) sum += mem[i] ?? 0;
    }
    return sum;
  } finally {
    c.munmap(ptr, bytes);
  }
}

/** What is wrong with a count from the busy loop, or null when it is believable. */
function implausibility(count: RawCount | null): string | null {
  if (count === null) return "its read(2) came back short";
  if (count.enabledNs > 0 && count.runningNs === 0) return "it never got onto the PMU";
  if (count.value === 0) return "it counted 0";
  if (!Number.isSafeInteger(count.value)) return `it counted ${count.value}`;
  return null;
}

/** Open, exercise, read and close `set` on the calling thread. */
export function validateEventSet(set: EventSet, env: PerfEnvironment): Validation {
  const fds: number[] = [];
  try {
    for (const event of [set.loads, set.walks]) {
      try {
        fds.push(openCounter(event, 0));
      } catch (err) {
        if (!(err instanceof SyscallError)) throw err;
        return { ok: false, code: err.code, reason: explainOpenFailure(event.name, err.code, env) };
      }
    }
    busyLoop();
    const [loadsFd, walksFd] = fds as [number, number];
    const loads = readCounter(loadsFd);
    const walks = readCounter(walksFd);
    const loadsProblem = implausibility(loads);
    if (loadsProblem !== null) {
      return {
        ok: false,
        code: null,
        reason: explainImplausible(set.loads.name, loadsProblem, env),
      };
    }
    const walksProblem = implausibility(walks);
    if (walksProblem !== null) {
      return {
        ok: false,
        code: null,
        reason: explainImplausible(set.walks.name, walksProblem, env),
      };
    }
    if (loads === null || walks === null) throw new Error("unreachable: counts checked above");
    if (!set.diagnosticOnly && walks.value > loads.value) {
      const detail = `counted more walks (${walks.value}) than loads (${loads.value})`;
      return { ok: false, code: null, reason: explainImplausible(set.walks.name, detail, env) };
    }
    return { ok: true, loads, walks };
  } finally {
    for (const fd of fds) closeCounter(fd);
  }
}
