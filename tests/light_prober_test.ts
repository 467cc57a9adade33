/**
 * The light refresh on this machine: figures for every cell, the calling
 * thread back on its own CPUs after the chase, rings kept between refreshes.
 * Asserts no speed: only that figures exist and what they claim to be.
 */
import assert from "node:assert/strict";
import { LightProber } from "../probe/light_prober.ts";
import { readTopology } from "../src/sys/topology.ts";
import { libc } from "../src/ffi/libc.ts";
import { cellsOf } from "../src/daemon/ptl_matrix.ts";

const usable = Deno.build.os === "linux" && Deno.build.arch === "x86_64" &&
  (() => {
    try {
      Deno.statSync("/sys/devices/system/node/node0");
      return true;
    } catch {
      return false;
    }
  })();
// libc stays open for the process: opened outside any test for the resource sanitizer.
if (usable) libc();

Deno.test({
  name: "a light refresh measures every cell and puts the thread back on its CPUs",
  ignore: !usable,
  async fn() {
    const topology = await readTopology();
    const cells = cellsOf(topology);
    const before = libc().getAffinity(0);
    const prober = new LightProber();
    try {
      const first = await prober.refresh(topology, cells, { memoryBytes: 16 << 20 });
      const second = await prober.refresh(topology, cells, { memoryBytes: 16 << 20 });
      assert.deepEqual(libc().getAffinity(0), before, "affinity restored");
      for (const r of [first, second]) {
        assert.equal(r.figures.length, cells.length);
        for (const f of r.figures) {
          assert.equal(f.error, null, `cell ${f.row}->${f.col}: ${f.error}`);
          assert.ok(f.latencyNs !== null && f.latencyNs > 0);
        }
        assert.ok(r.costMs >= 0);
      }
      assert.ok(first.setupMs > 0, "the first refresh opened the rings");
      assert.equal(second.setupMs, 0, "the second reused them");
      assert.ok(["flush", "ring"].includes(second.method.method));
      if (second.method.method === "ring") {
        // No exec memory here: a small ring must not claim memory latency.
        assert.equal(second.method.dram, false);
      }
      const status = prober.flushStatus;
      if (status?.ok) assert.ok(status.flushedNs !== null && status.cachedNs !== null);
    } finally {
      prober.close();
    }
  },
});

Deno.test({
  name: "the fallback without flushing labels a ring under 4 x LLC",
  ignore: !usable,
  async fn() {
    const topology = await readTopology();
    if (topology.llcBytes === null) return;
    const prober = new LightProber({ method: "ring" });
    try {
      const r = await prober.refresh(topology, cellsOf(topology).slice(0, 1), {
        memoryBytes: 1 << 20,
      });
      assert.equal(r.method.method, "ring");
      assert.equal(r.method.dram, false);
      assert.match(r.method.note ?? "", /cache latency, not memory latency/);
    } finally {
      prober.close();
    }
  },
});
