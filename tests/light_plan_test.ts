import assert from "node:assert/strict";
import { describeMethod, FLUSH_RING_BYTES, ringBytesFor } from "../probe/light_plan.ts";
import type { FlushStatus } from "../probe/light.ts";

const MIB = 1024 * 1024;
const GROUP = 256 * 1024;

Deno.test("ring size: the memory budget shared by the nodes, capped when flushing, whole groups", () => {
  assert.equal(ringBytesFor(16 * MIB, 1, GROUP, true), FLUSH_RING_BYTES);
  assert.equal(ringBytesFor(16 * MIB, 1, GROUP, false), 16 * MIB, "no flush: all of it");
  assert.equal(ringBytesFor(16 * MIB, 8, GROUP, true), 2 * MIB);
  assert.equal(ringBytesFor(3 * MIB, 4, GROUP, false), 3 * GROUP, "rounded down to groups");
  assert.equal(ringBytesFor(1 * MIB, 64, GROUP, true), GROUP, "never under one group");
});

const flushOk: FlushStatus = {
  ok: true,
  instruction: "clflushopt",
  reason: null,
  cachedNs: 7,
  flushedNs: 140,
};

/** The method for a chase with clflush: `flush` as found, a ring of `bufferBytes`. */
const flushMethod = (flush: FlushStatus, bufferBytes: number, llcBytes: number | null) =>
  describeMethod({ kind: "flush", fallbackReason: null, flush, bufferBytes, llcBytes });

/** The method for a plain ring (no flush), and why flushing was not used. */
const ringMethod = (
  bufferBytes: number,
  llcBytes: number | null,
  fallbackReason: string | null = null,
) => describeMethod({ kind: "ring", fallbackReason, flush: null, bufferBytes, llcBytes });

Deno.test("a working flush gives memory latency whatever the LLC", () => {
  const m = flushMethod(flushOk, 2 * MIB, 260 * MIB);
  assert.equal(m.dram, true);
  assert.equal(m.method, "flush");
  assert.match(m.note ?? "", /clflushopt before each chase, 2 MiB ring/);
});

Deno.test("a flush that shows no effect is not passed off as memory latency", () => {
  const m = flushMethod({ ...flushOk, cachedNs: 100, flushedNs: 110 }, 2 * MIB, 32 * MIB);
  assert.equal(m.dram, false);
  assert.match(m.note ?? "", /flushing shows no effect here \(110 ns flushed vs 100 ns cached\)/);
});

Deno.test("without flush, a ring under 4 x LLC says it is cache latency and why", () => {
  const m = ringMethod(16 * MIB, 32 * MIB, "exec memory refused (mprotect PROT_EXEC: EACCES)");
  assert.equal(m.dram, false);
  assert.match(m.note ?? "", /exec memory refused/);
  assert.match(m.note ?? "", /16 MiB ring per node is under 4 x LLC \(32 MiB\)/);
  assert.match(m.note ?? "", /--ptl-memory/);
});

Deno.test("without flush, a ring of 4 x LLC or more is memory latency; an unknown LLC is not", () => {
  const big = ringMethod(128 * MIB, 32 * MIB);
  assert.equal(big.dram, true);
  const unknown = ringMethod(128 * MIB, null);
  assert.equal(unknown.dram, false);
  assert.match(unknown.note ?? "", /LLC size unknown/);
});
