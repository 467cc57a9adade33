import assert from "node:assert/strict";
import {
  counterDelta,
  counterRates,
  faultRates,
  multiplexShare,
  perSecond,
  ratio,
} from "../src/core/rates.ts";
import type { CounterReading, ProcessInfo } from "../src/core/types.ts";
import { processInfo } from "./support/process_info.ts";
import { readProcess, retireThread, retireWalkCycles } from "../src/sys/perf/process_counters.ts";
import type { ProcessCounters } from "../src/sys/perf/process_counters.ts";
import { type RawCount, scaledCount } from "../src/sys/perf/attr.ts";

function reading(
  loads: number | null,
  walks: number | null,
  enabledNs = 0,
  runningNs = enabledNs,
): CounterReading {
  return { loads, walks, enabledNs, runningNs, threads: 1 };
}

function proc(minorFaults: number, majorFaults: number, pid = 10, startTime = 500): ProcessInfo {
  return processInfo(pid, { startTime, name: "app", minorFaults, majorFaults });
}

Deno.test("MAR, dTLB ratio and multiplex share from two readings", () => {
  const rates = counterRates(
    reading(1_000_000, 1_000, 1e9),
    reading(3_000_000, 21_000, 3e9),
    500,
  );
  assert.equal(rates.mar, 4_000_000); // 2e6 loads in 0.5 s
  assert.equal(rates.dtlbRatio, 0.01); // 2e4 walks / 2e6 loads
  assert.equal(rates.multiplex, 1);
});

Deno.test("multiplexing: the share is the running/enabled delta, not the lifetime one", () => {
  // First 1 s fully on the PMU, then 2 s enabled but only 0.5 s running.
  const rates = counterRates(reading(100, 1, 1e9, 1e9), reading(500, 5, 3e9, 1.5e9), 1000);
  assert.equal(rates.multiplex, 0.25);
  assert.equal(multiplexShare(11, 10), 1); // rounding above 1 is clamped
  assert.equal(multiplexShare(0, 0), null); // nothing enabled: unknown
});

Deno.test("a counter that goes backwards gives unknown for that tick, never negative", () => {
  const rates = counterRates(reading(5_000, 50, 1e9), reading(4_000, 60, 2e9), 1000);
  assert.equal(rates.mar, null);
  assert.equal(rates.dtlbRatio, null);
  assert.equal(rates.multiplex, 1);
  const walksBack = counterRates(reading(5_000, 50), reading(6_000, 40), 1000);
  assert.equal(walksBack.mar, 1_000);
  assert.equal(walksBack.dtlbRatio, null);
  assert.equal(counterDelta(10, 9), null);
  assert.equal(counterDelta(10, 10), 0);
});

Deno.test("unknown inputs stay unknown; zero loads give no ratio but a real zero rate", () => {
  assert.deepEqual(counterRates(null, reading(1, 1), 1000), {
    mar: null,
    dtlbRatio: null,
    multiplex: null,
    walkCyclesPerLoad: null,
  });
  const unknownLoads = counterRates(reading(null, 5), reading(null, 9), 1000);
  assert.equal(unknownLoads.mar, null);
  assert.equal(unknownLoads.dtlbRatio, null);
  const idle = counterRates(reading(100, 5), reading(100, 5), 1000);
  assert.equal(idle.mar, 0);
  assert.equal(idle.dtlbRatio, null);
  assert.equal(perSecond(10, 0), null);
  assert.equal(perSecond(10, Number.NaN), null);
  assert.equal(ratio(1, 0), null);
  assert.equal(counterDelta(Number.POSITIVE_INFINITY, 1), null);
});

/** A fake kernel: counts per fd, changed by the test between "ticks". */
function fakeCounters(counts: Map<number, RawCount>) {
  return (fd: number) => counts.get(fd) ?? null;
}

Deno.test("a thread that dies between ticks: its final count is kept, the total never drops", () => {
  const counts = new Map<number, RawCount>([
    [3, { value: 1000, enabledNs: 100, runningNs: 100 }],
    [4, { value: 10, enabledNs: 100, runningNs: 100 }],
    [5, { value: 3000, enabledNs: 100, runningNs: 50 }], // multiplexed: scaled ×2
    [6, { value: 30, enabledNs: 100, runningNs: 50 }],
  ]);
  const proc: ProcessCounters<number> = {
    pid: 10,
    threads: new Map([[10, { loads: 3, walks: 4 }], [11, { loads: 5, walks: 6 }]]),
    retired: { loads: 0, walks: 0, enabledNs: 0, runningNs: 0 },
  };
  const read = fakeCounters(counts);
  const first = readProcess(proc, read, scaledCount);
  assert.deepEqual(first, {
    loads: 7000,
    walks: 70,
    enabledNs: 400,
    runningNs: 300,
    threads: 2,
    walkCycles: null, // not counted: unknown, never 0
  });
  // Thread 11 ends: its last (scaled) counts move into the retired totals.
  retireThread(proc, read(5), read(6), scaledCount);
  proc.threads.delete(11);
  assert.deepEqual(proc.retired, { loads: 6000, walks: 60, enabledNs: 200, runningNs: 100 });
  counts.set(3, { value: 2000, enabledNs: 200, runningNs: 200 });
  counts.set(4, { value: 30, enabledNs: 200, runningNs: 200 });
  const second = readProcess(proc, read, scaledCount);
  assert.equal(second.loads, 8000);
  assert.equal(second.threads, 1);
  const rates = counterRates(first, second, 1000);
  assert.equal(rates.mar, 1000);
  assert.equal(rates.dtlbRatio, 0.02);
});

Deno.test("walk cycles: summed over every thread, kept for the dead; one missing makes them unknown", () => {
  const counts = new Map<number, RawCount>([
    [3, { value: 1000, enabledNs: 100, runningNs: 100 }],
    [4, { value: 10, enabledNs: 100, runningNs: 100 }],
    [7, { value: 400, enabledNs: 100, runningNs: 100 }],
    [5, { value: 3000, enabledNs: 100, runningNs: 100 }],
    [6, { value: 30, enabledNs: 100, runningNs: 100 }],
    [8, { value: 900, enabledNs: 100, runningNs: 50 }], // multiplexed: scaled x2
  ]);
  const read = fakeCounters(counts);
  const proc: ProcessCounters<number> = {
    pid: 10,
    threads: new Map([
      [10, { loads: 3, walks: 4, walkCycles: 7 }],
      [11, { loads: 5, walks: 6, walkCycles: 8 }],
    ]),
    retired: { loads: 0, walks: 0, enabledNs: 0, runningNs: 0, walkCycles: 0 },
  };
  const first = readProcess(proc, read, scaledCount);
  assert.equal(first.walkCycles, 400 + 1800);
  retireThread(proc, read(5), read(6), scaledCount);
  retireWalkCycles(proc, read(8), scaledCount);
  proc.threads.delete(11);
  counts.set(7, { value: 500, enabledNs: 200, runningNs: 200 });
  counts.set(3, { value: 2000, enabledNs: 200, runningNs: 200 });
  const second = readProcess(proc, read, scaledCount);
  assert.equal(second.walkCycles, 500 + 1800, "the dead thread's cycles are kept");
  assert.equal(counterRates(first, second, 1000).walkCyclesPerLoad, 100 / 1000);
  // A thread that does not count them: the process's figure is unknown, not a smaller number.
  proc.threads.set(12, { loads: 3, walks: 4, walkCycles: null });
  assert.equal(readProcess(proc, read, scaledCount).walkCycles, null);
  proc.threads.delete(12);
  // A dead thread's lost final count: unknown for good (the total would step back).
  retireWalkCycles(proc, null, scaledCount);
  assert.equal(readProcess(proc, read, scaledCount).walkCycles, null);
  assert.equal(
    counterRates(second, readProcess(proc, read, scaledCount), 1000).walkCyclesPerLoad,
    null,
  );
});

Deno.test("a thread whose final count was lost makes the tick unknown, not negative", () => {
  const proc: ProcessCounters<number> = {
    pid: 10,
    threads: new Map(),
    retired: { loads: 0, walks: 0, enabledNs: 0, runningNs: 0 },
  };
  retireThread(proc, null, { value: 5, enabledNs: 1, runningNs: 1 }, scaledCount);
  assert.deepEqual(proc.retired, { loads: 0, walks: 0, enabledNs: 0, runningNs: 0 });
  const before = reading(7000, 70, 400);
  const after = reading(2000, 30, 400); // the dead thread's 6000 loads vanished
  const rates = counterRates(before, after, 1000);
  assert.equal(rates.mar, null);
  assert.equal(rates.dtlbRatio, null);
});

Deno.test("one unreadable thread makes the process sum unknown", () => {
  const proc: ProcessCounters<number> = {
    pid: 10,
    threads: new Map([[10, { loads: 3, walks: 4 }], [11, { loads: 5, walks: 6 }]]),
    retired: { loads: 0, walks: 0, enabledNs: 0, runningNs: 0 },
  };
  const read = fakeCounters(
    new Map([
      [3, { value: 1000, enabledNs: 100, runningNs: 100 }],
      [4, { value: 10, enabledNs: 100, runningNs: 100 }],
      [5, { value: 1000, enabledNs: 100, runningNs: 0 }], // never on the PMU
      [6, { value: 10, enabledNs: 100, runningNs: 100 }],
    ]),
  );
  const r = readProcess(proc, read, scaledCount);
  assert.equal(r.loads, null);
  assert.equal(r.walks, 20);
  const throwing = readProcess(proc, () => {
    throw new Error("EIO");
  }, scaledCount);
  assert.equal(throwing.loads, null);
  assert.equal(throwing.walks, null);
});

Deno.test("page-fault rates from /proc/PID/stat deltas", () => {
  assert.deepEqual(faultRates(proc(100, 2), proc(600, 4), 500), { minorPerS: 1000, majorPerS: 4 });
  assert.deepEqual(faultRates(null, proc(1, 1), 500), { minorPerS: null, majorPerS: null });
  // pid reused by another process: the counts are not comparable.
  assert.deepEqual(faultRates(proc(100, 2, 10, 500), proc(600, 4, 10, 900), 500), {
    minorPerS: null,
    majorPerS: null,
  });
  assert.deepEqual(faultRates(proc(100, 5), proc(200, 4), 1000), {
    minorPerS: 100,
    majorPerS: null,
  });
});
