/**
 * Which two events measure "loads" and "page walks" on this CPU. Pure: a
 * table keyed by vendor / family / model, every code taken from the kernel's
 * own event files (tools/perf/pmu-events/arch/x86/...), never guessed. A CPU
 * not in the table gets the kernel's generic cache events.
 *
 * The ratio is always the same quantity on every source: page walks caused by
 * data loads per load (see README, "Counters"). What "walk" is per source:
 * - Intel: DTLB_LOAD_MISSES.WALK_COMPLETED, completed page walks caused by
 *   demand loads that missed every TLB level.
 * - AMD Zen 3/4: L1 DTLB misses that also missed the L2 DTLB, i.e. the ones
 *   that request a page-table walk (umask 0xF0 of LsL1DTlbMiss).
 * - generic-cache: dTLB read misses. The kernel maps these per vendor (on
 *   Zen to the same L2-miss walk event); on some Intel models it may count
 *   STLB misses rather than completed walks, an approximation we accept.
 * "Loads" are retired loads on Intel, dispatched load ops on AMD (Zen has no
 * retired-loads event) and L1D read accesses for the generic source.
 *
 * A third, optional event measures how long walks take (what replication
 * can shorten): DTLB_LOAD_MISSES.WALK_ACTIVE, cycles with at least one page
 * walk for a demand load in progress, on the Intel models of the table. The
 * AMD Zen 3/4 tables (amdzen3/amdzen4 memory.json) and the generic events
 * have no walk-duration event: there the figure is unknown.
 */
import type { CpuIdentity, SignalKind } from "../../core/types.ts";
import {
  amdRawConfig,
  hwCacheConfig,
  intelRawConfig,
  PERF_COUNT_HW_CACHE_DTLB,
  PERF_COUNT_HW_CACHE_L1D,
  PERF_COUNT_HW_CACHE_OP_READ,
  PERF_COUNT_HW_CACHE_RESULT_ACCESS,
  PERF_COUNT_HW_CACHE_RESULT_MISS,
  PERF_COUNT_SW_PAGE_FAULTS,
  PERF_COUNT_SW_TASK_CLOCK,
  PERF_TYPE_HW_CACHE,
  PERF_TYPE_RAW,
  PERF_TYPE_SOFTWARE,
} from "./attr.ts";

export interface EventSpec {
  /** The event's name in its source, e.g. "MEM_INST_RETIRED.ALL_LOADS". */
  name: string;
  type: number;
  config: bigint;
}

export interface EventSet {
  /** Shown to the user: "intel-skx-raw", "amd-zen3-raw", "generic-cache", ... */
  source: string;
  loads: EventSpec;
  walks: EventSpec;
  /** "software" for the task-clock / page-faults stand-in: never a memory signal. */
  signals: SignalKind;
  /** Cycles a load's page walk was in progress; null where the CPU's table has no such event. */
  walkCycles: EventSpec | null;
  /** True for the test/diagnostic software pair: never a hardware signal. */
  diagnosticOnly: boolean;
}

/** A CPU-specific event: PERF_TYPE_RAW, its code and umask in `config`. */
function rawEvent(name: string, config: bigint): EventSpec {
  return { name, type: PERF_TYPE_RAW, config };
}

// ------------------------------------------------------------ Intel raw

// MEM_INST_RETIRED.ALL_LOADS: EventCode 0xD0, UMask 0x81 in
// tools/perf/pmu-events/arch/x86/{skylakex,icelakex,sapphirerapids}/ (cache.json;
// same code on all three).
const INTEL_ALL_LOADS = rawEvent("MEM_INST_RETIRED.ALL_LOADS", intelRawConfig(0xd0, 0x81));

// DTLB_LOAD_MISSES.WALK_COMPLETED: EventCode 0x08, UMask 0x0E in
// tools/perf/pmu-events/arch/x86/skylakex/virtual-memory.json and
// tools/perf/pmu-events/arch/x86/icelakex/virtual-memory.json.
const INTEL_WALKS_SKX_ICX = rawEvent("DTLB_LOAD_MISSES.WALK_COMPLETED", intelRawConfig(0x08, 0x0e));

// DTLB_LOAD_MISSES.WALK_COMPLETED moved to EventCode 0x12 (UMask 0x0E) on
// Golden Cove cores: tools/perf/pmu-events/arch/x86/sapphirerapids/virtual-memory.json.
const INTEL_WALKS_SPR = rawEvent("DTLB_LOAD_MISSES.WALK_COMPLETED", intelRawConfig(0x12, 0x0e));

// DTLB_LOAD_MISSES.WALK_ACTIVE: EventCode 0x08, UMask 0x10, CounterMask 1
// ("Cycles when at least one PMH is busy with a page walk for a load") in
// tools/perf/pmu-events/arch/x86/skylakex/virtual-memory.json and
// icelakex/virtual-memory.json.
const INTEL_WALK_ACTIVE_SKX_ICX = rawEvent(
  "DTLB_LOAD_MISSES.WALK_ACTIVE",
  intelRawConfig(0x08, 0x10, 1),
);

// DTLB_LOAD_MISSES.WALK_ACTIVE moved with its family to EventCode 0x12
// (UMask 0x10, CounterMask 1): sapphirerapids/virtual-memory.json.
const INTEL_WALK_ACTIVE_SPR = rawEvent(
  "DTLB_LOAD_MISSES.WALK_ACTIVE",
  intelRawConfig(0x12, 0x10, 1),
);

/**
 * Family 6 models, as tools/perf/pmu-events/arch/x86/mapfile.csv maps them:
 * GenuineIntel-6-55-[01234] skylakex (85; steppings 5-7 are Cascade Lake,
 * whose cascadelakex tables carry the same two codes), GenuineIntel-6-6[AC]
 * icelakex (106, 108), GenuineIntel-6-8F sapphirerapids (143).
 */
const INTEL_MODELS: ReadonlyMap<
  number,
  { source: string; walks: EventSpec; walkCycles: EventSpec }
> = new Map([
  [85, {
    source: "intel-skx-raw",
    walks: INTEL_WALKS_SKX_ICX,
    walkCycles: INTEL_WALK_ACTIVE_SKX_ICX,
  }],
  [106, {
    source: "intel-icx-raw",
    walks: INTEL_WALKS_SKX_ICX,
    walkCycles: INTEL_WALK_ACTIVE_SKX_ICX,
  }],
  [108, {
    source: "intel-icx-raw",
    walks: INTEL_WALKS_SKX_ICX,
    walkCycles: INTEL_WALK_ACTIVE_SKX_ICX,
  }],
  [143, { source: "intel-spr-raw", walks: INTEL_WALKS_SPR, walkCycles: INTEL_WALK_ACTIVE_SPR }],
]);

// ------------------------------------------------------------ AMD raw

// ls_dispatch.ld_dispatch: EventCode 0x29, UMask 0x01 ("Dispatch of a single op
// that performs a memory load") in tools/perf/pmu-events/arch/x86/amdzen3/memory.json
// and amdzen4/memory.json.
const AMD_LOAD_DISPATCH = rawEvent("ls_dispatch.ld_dispatch", amdRawConfig(0x29, 0x01));

// ls_l1_d_tlb_miss.all_l2_miss: EventCode 0x45, UMask 0xF0 ("L1 DTLB misses with
// L2 DTLB misses (page-table walks are requested)") in amdzen4/memory.json. On
// Zen 3, amdzen3/memory.json lists the same four bits one by one:
// tlb_reload_{4k 0x10, coalesced_page 0x20, 2m 0x40, 1g 0x80}_l2_miss.
const AMD_L2_DTLB_MISS = rawEvent("ls_l1_d_tlb_miss.all_l2_miss", amdRawConfig(0x45, 0xf0));

/**
 * Family 0x19 as mapfile.csv splits it: AuthenticAMD-25-([245][[:xdigit:]]|[[:xdigit:]])
 * is amdzen3 (models 0x00-0x0F, 0x20-0x5F), every other family-25 model amdzen4.
 */
function amdZenGeneration(family: number, model: number): 3 | 4 | null {
  if (family !== 0x19) return null;
  if (model <= 0x0f || (model >= 0x20 && model <= 0x5f)) return 3;
  return 4;
}

// ------------------------------------------------------------ generic

/** The kernel's generic cache events (perf's L1-dcache-loads / dTLB-load-misses). */
export const GENERIC_EVENTS: EventSet = {
  source: "generic-cache",
  loads: {
    name: "L1-dcache-loads",
    type: PERF_TYPE_HW_CACHE,
    config: hwCacheConfig(
      PERF_COUNT_HW_CACHE_L1D,
      PERF_COUNT_HW_CACHE_OP_READ,
      PERF_COUNT_HW_CACHE_RESULT_ACCESS,
    ),
  },
  walks: {
    name: "dTLB-load-misses",
    type: PERF_TYPE_HW_CACHE,
    config: hwCacheConfig(
      PERF_COUNT_HW_CACHE_DTLB,
      PERF_COUNT_HW_CACHE_OP_READ,
      PERF_COUNT_HW_CACHE_RESULT_MISS,
    ),
  },
  signals: "hardware",
  walkCycles: null,
  diagnosticOnly: false,
};

/**
 * The software stand-in (`--signals software`): events every kernel has, for
 * machines without a PMU (VMs, where Mitosis kernels are tried). Not a memory
 * signal: task-clock (ns on CPU) stands in for loads, so the "rate" is CPU ns
 * per second, and page faults for walks, so the "ratio" is faults per CPU ns.
 * Never chosen by `selectEvents` nor as a fallback; only the user's flag.
 */
export const SOFTWARE_EVENTS: EventSet = {
  source: "software (task-clock as loads, page-faults as walks)",
  loads: { name: "task-clock", type: PERF_TYPE_SOFTWARE, config: BigInt(PERF_COUNT_SW_TASK_CLOCK) },
  walks: {
    name: "page-faults",
    type: PERF_TYPE_SOFTWARE,
    config: BigInt(PERF_COUNT_SW_PAGE_FAULTS),
  },
  signals: "software",
  walkCycles: null,
  diagnosticOnly: true,
};

/** The best event set for this CPU: its own raw events when known, else generic. */
export function selectEvents(cpu: CpuIdentity): EventSet {
  const { vendor, family, model } = cpu;
  if (family === null || model === null) return GENERIC_EVENTS;
  if (vendor === "GenuineIntel" && family === 6) {
    const entry = INTEL_MODELS.get(model);
    if (entry) {
      return {
        source: entry.source,
        loads: INTEL_ALL_LOADS,
        walks: entry.walks,
        signals: "hardware",
        walkCycles: entry.walkCycles,
        diagnosticOnly: false,
      };
    }
  }
  if (vendor === "AuthenticAMD") {
    const generation = amdZenGeneration(family, model);
    if (generation !== null) {
      return {
        source: `amd-zen${generation}-raw`,
        loads: AMD_LOAD_DISPATCH,
        walks: AMD_L2_DTLB_MISS,
        signals: "hardware",
        walkCycles: null,
        diagnosticOnly: false,
      };
    }
  }
  return GENERIC_EVENTS;
}

/** What to try, in order: the CPU's own events, then the generic ones. */
export function candidateEventSets(cpu: CpuIdentity): EventSet[] {
  const best = selectEvents(cpu);
  return best === GENERIC_EVENTS ? [GENERIC_EVENTS] : [best, GENERIC_EVENTS];
}
