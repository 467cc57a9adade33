import assert from "node:assert/strict";
import type { CpuIdentity } from "../src/core/types.ts";
import {
  candidateEventSets,
  GENERIC_EVENTS,
  selectEvents,
  SOFTWARE_EVENTS,
} from "../src/sys/perf/events.ts";
import { PERF_TYPE_HW_CACHE, PERF_TYPE_RAW, PERF_TYPE_SOFTWARE } from "../src/sys/perf/attr.ts";

function cpu(vendor: string | null, family: number | null, model: number | null): CpuIdentity {
  return { vendor, family, model, modelName: null, mhz: null };
}

// Expected codes, each from the kernel's tools/perf/pmu-events/arch/x86 tables:
//  MEM_INST_RETIRED.ALL_LOADS          EventCode 0xD0 UMask 0x81  skylakex/icelakex/sapphirerapids
//  DTLB_LOAD_MISSES.WALK_COMPLETED     EventCode 0x08 UMask 0x0E  skylakex/, icelakex/virtual-memory.json
//  DTLB_LOAD_MISSES.WALK_COMPLETED     EventCode 0x12 UMask 0x0E  sapphirerapids/virtual-memory.json
//  ls_dispatch.ld_dispatch             EventCode 0x29 UMask 0x01  amdzen3/, amdzen4/memory.json
//  ls_l1_d_tlb_miss.all_l2_miss        EventCode 0x45 UMask 0xF0  amdzen4/memory.json (zen3: 0x10|0x20|0x40|0x80)
const INTEL_TABLE: [model: number, source: string, loads: bigint, walks: bigint][] = [
  [85, "intel-skx-raw", 0x81d0n, 0x0e08n],
  [106, "intel-icx-raw", 0x81d0n, 0x0e08n],
  [108, "intel-icx-raw", 0x81d0n, 0x0e08n],
  [143, "intel-spr-raw", 0x81d0n, 0x0e12n],
];

Deno.test("Intel server models get their own raw events", () => {
  for (const [model, source, loads, walks] of INTEL_TABLE) {
    const set = selectEvents(cpu("GenuineIntel", 6, model));
    assert.equal(set.source, source, `model ${model}`);
    assert.equal(set.loads.type, PERF_TYPE_RAW);
    assert.equal(set.loads.config, loads, `model ${model} loads`);
    assert.equal(set.loads.name, "MEM_INST_RETIRED.ALL_LOADS");
    assert.equal(set.walks.config, walks, `model ${model} walks`);
    assert.equal(set.walks.name, "DTLB_LOAD_MISSES.WALK_COMPLETED");
    assert.equal(set.signals, "hardware");
  }
});

Deno.test("walk duration: WALK_ACTIVE (cmask 1) on the Intel models of the table, none elsewhere", () => {
  // event | umask << 8 | cmask << 24, codes from skylakex/icelakex/sapphirerapids virtual-memory.json.
  const expected: [number, bigint][] = [[85, 0x01001008n], [106, 0x01001008n], [143, 0x01001012n]];
  for (const [model, config] of expected) {
    const walkCycles = selectEvents(cpu("GenuineIntel", 6, model)).walkCycles;
    assert.equal(walkCycles?.name, "DTLB_LOAD_MISSES.WALK_ACTIVE");
    assert.equal(walkCycles?.config, config, `model ${model}`);
  }
  assert.equal(selectEvents(cpu("AuthenticAMD", 25, 1)).walkCycles, null, "Zen 3 has none");
  assert.equal(selectEvents(cpu("AuthenticAMD", 25, 0x61)).walkCycles, null, "Zen 4 has none");
  assert.equal(GENERIC_EVENTS.walkCycles, null);
});

Deno.test("AMD family 0x19 splits into Zen 3 and Zen 4 as the kernel's mapfile does", () => {
  const zen3 = [0x01, 0x08, 0x21, 0x44, 0x50]; // Milan, Vermeer, Rembrandt, Cezanne
  const zen4 = [0x10, 0x11, 0x61, 0x74, 0xa0]; // Genoa, Raphael, Phoenix, Bergamo
  for (const model of zen3) {
    assert.equal(selectEvents(cpu("AuthenticAMD", 25, model)).source, "amd-zen3-raw");
  }
  for (const model of zen4) {
    assert.equal(selectEvents(cpu("AuthenticAMD", 25, model)).source, "amd-zen4-raw");
  }
  const set = selectEvents(cpu("AuthenticAMD", 25, 1)); // this machine: EPYC family 25 model 1
  assert.equal(set.loads.type, PERF_TYPE_RAW);
  assert.equal(set.loads.config, 0x0129n);
  assert.equal(set.loads.name, "ls_dispatch.ld_dispatch");
  assert.equal(set.walks.config, 0xf045n);
  assert.equal(set.walks.name, "ls_l1_d_tlb_miss.all_l2_miss");
});

Deno.test("unknown CPUs fall back to the generic cache events", () => {
  for (
    const c of [
      cpu("GenuineIntel", 6, 42), // Sandy Bridge: not in the table
      cpu("AuthenticAMD", 23, 49), // Zen 2: not in the table
      cpu("AuthenticAMD", 26, 2), // Zen 5: not in the table
      cpu("HygonGenuine", 24, 0),
      cpu(null, null, null),
      cpu("GenuineIntel", null, 85),
    ]
  ) {
    assert.equal(selectEvents(c), GENERIC_EVENTS);
    assert.deepEqual(candidateEventSets(c), [GENERIC_EVENTS]);
  }
  assert.equal(GENERIC_EVENTS.loads.type, PERF_TYPE_HW_CACHE);
  assert.equal(GENERIC_EVENTS.loads.config, 0n); // L1D | READ << 8 | ACCESS << 16
  assert.equal(GENERIC_EVENTS.walks.config, 0x10003n); // DTLB | READ << 8 | MISS << 16
});

Deno.test("a known CPU tries its raw events, then the generic ones", () => {
  const sets = candidateEventSets(cpu("GenuineIntel", 6, 143));
  assert.deepEqual(sets.map((s) => s.source), ["intel-spr-raw", "generic-cache"]);
});

Deno.test("the software pair is labelled software and never selected, not even as a fallback", () => {
  assert.equal(SOFTWARE_EVENTS.signals, "software");
  assert.match(SOFTWARE_EVENTS.source, /^software \(task-clock as loads, page-faults as walks\)$/);
  assert.equal(SOFTWARE_EVENTS.loads.type, PERF_TYPE_SOFTWARE);
  assert.equal(SOFTWARE_EVENTS.walks.type, PERF_TYPE_SOFTWARE);
  for (const family of [6, 23, 25, 26]) {
    for (let model = 0; model < 256; model++) {
      for (const vendor of ["GenuineIntel", "AuthenticAMD"]) {
        const c = cpu(vendor, family, model);
        assert.equal(selectEvents(c).signals, "hardware");
        assert.ok(candidateEventSets(c).every((set) => set.signals === "hardware"));
      }
    }
  }
});
