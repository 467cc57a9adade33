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
import { Mapping } from "../../ffi/owned.ts";
import type { RawCount } from "./attr.ts";
import type { EventSet, EventSpec } from "./events.ts";
import { explainImplausible, explainOpenFailure } from "./diagnose.ts";
import type { PerfEnvironment } from "./diagnose.ts";
import { PerfCounter } from "./perf_counter.ts";

const PAGE_BYTES = 4096;
const BUSY_PAGES = 8192;

export type Validation =
  | { ok: true; loads: RawCount; walks: RawCount }
  | { ok: false; code: string | null; reason: string };

/** Touch then re-read BUSY_PAGES pages of 4 KiB; returns a checksum so the JIT keeps the loads. */
function busyLoop(): number {
  const bytes = BUSY_PAGES * PAGE_BYTES;
  using mapping = Mapping.anonymous(bytes);
  libc().madvise(mapping.pointer, bytes, MADV_NOHUGEPAGE);
  const mem = new Uint8Array(mapping.arrayBuffer());
  for (let i = 0; i < bytes; i += PAGE_BYTES) mem[i] = i & 0xff;
  let sum = 0;
  for (let pass = 0; pass < 4; pass++) {
    // A stride of one page plus a line: a new page (and a new TLB entry) every load.
    for (let i = 0; i < bytes; i += PAGE_BYTES + 64) sum += mem[i] ?? 0;
  }
  return sum;
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
  using opened = new DisposableStack();
  const counters: PerfCounter[] = [];
  for (const event of [set.loads, set.walks]) {
    try {
      counters.push(opened.use(PerfCounter.open(event, 0)));
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      return { ok: false, code: err.code, reason: explainOpenFailure(event.name, err.code, env) };
    }
  }
  busyLoop();
  const [loadsCounter, walksCounter] = counters as [PerfCounter, PerfCounter];
  const loads = loadsCounter.read();
  const walks = walksCounter.read();
  for (const [event, count] of [[set.loads, loads], [set.walks, walks]] as const) {
    const problem = implausibility(count);
    if (problem !== null) {
      return { ok: false, code: null, reason: explainImplausible(event.name, problem, env) };
    }
  }
  if (loads === null || walks === null) throw new Error("unreachable: counts checked above");
  if (set.signals === "hardware" && walks.value > loads.value) {
    const detail = `counted more walks (${walks.value}) than loads (${loads.value})`;
    return { ok: false, code: null, reason: explainImplausible(set.walks.name, detail, env) };
  }
  return { ok: true, loads, walks };
}

/**
 * Open, exercise, read and close one optional event (the walk duration) on
 * the calling thread: null when it counts, else why not in words. The busy
 * loop walks on every load, so a working walk-cycles event cannot count 0.
 */
export function validateOptionalEvent(event: EventSpec, env: PerfEnvironment): string | null {
  let count: RawCount | null;
  try {
    using counter = PerfCounter.open(event, 0);
    busyLoop();
    count = counter.read();
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    return explainOpenFailure(event.name, err.code, env);
  }
  const problem = implausibility(count);
  return problem === null ? null : explainImplausible(event.name, problem, env);
}
