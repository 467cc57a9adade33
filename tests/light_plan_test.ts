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

Deno.test("a working flush gives memory latency whatever the LLC", () => {
  const m = describeMethod({
    kind: "flush",
    fallbackReason: null,
    flush: flushOk,
    bufferBytes: 2 * MIB,
    llcBytes: 260 * MIB,
  });
  assert.equal(m.dram, true);
  assert.equal(m.method, "flush");
  assert.match(m.note ?? "", /clflushopt before each chase, 2 MiB ring/);
});

Deno.test("a flush that shows no effect is not passed off as memory latency", () => {
  const m = describeMethod({
    kind: "flush",
    fallbackReason: null,
    flush: { ...flushOk, cachedNs: 100, flushedNs: 110 },
    bufferBytes: 2 * MIB,
    llcBytes: 32 * MIB,
  });
  assert.equal(m.dram, false);
  assert.match(m.note ?? "", /flushing shows no effect here \(110 ns flushed vs 100 ns cached\)/);
});

Deno.test("without flush, a ring under 4 x LLC says it is cache latency and why", () => {
  const m = describeMethod({
    kind: "ring",
    fallbackReason: "exec memory refused (mprotect PROT_EXEC: EACCES)",
    flush: null,
    bufferBytes: 16 * MIB,
    llcBytes: 32 * MIB,
  });
  assert.equal(m.dram, false);
  assert.match(m.note ?? "", /exec memory refused/);
  assert.match(m.note ?? "", /16 MiB ring per node is under 4 x LLC \(32 MiB\)/);
  assert.match(m.note ?? "", /--ptl-memory/);
});

Deno.test("without flush, a ring of 4 x LLC or more is memory latency; an unknown LLC is not", () => {
  const big = describeMethod({
    kind: "ring",
    fallbackReason: null,
    flush: null,
    bufferBytes: 128 * MIB,
    llcBytes: 32 * MIB,
  });
  assert.equal(big.dram, true);
  const unknown = describeMethod({
    kind: "ring",
    fallbackReason: null,
    flush: null,
    bufferBytes: 128 * MIB,
    llcBytes: null,
  });
  assert.equal(unknown.dram, false);
  assert.match(unknown.note ?? "", /LLC size unknown/);
});
