import assert from "node:assert/strict";
import { buildChaseOrder, chaseLoads, writeChain } from "../probe/chase.ts";
import { nextGroups, planRing, Ring } from "../probe/ring.ts";
import { libc } from "../src/ffi/libc.ts";

// libc stays open for the process (by design): opened here, outside any test,
// so the resource sanitizer does not pin it on one.
if (Deno.build.os === "linux") libc();

const layout = { bufferBytes: 8 * 4096, groupBytes: 4096, strideBytes: 256 };

Deno.test("planRing: chasing one group's loads from its first word visits that group and lands on the next", () => {
  const order = buildChaseOrder(layout, 7);
  const words = new Uint32Array(layout.bufferBytes / 4);
  writeChain(words, order, layout.strideBytes);
  const plan = planRing(order, layout);
  const groups = layout.bufferBytes / layout.groupBytes;
  assert.equal(plan.perGroup, 16);
  assert.equal(plan.firstWord.length, groups);
  const visited = new Set<number>();
  for (let g = 0; g < groups; g++) {
    // Follow the chain by hand and record the byte offset of every element read.
    let at = plan.firstWord[g]!;
    const bytes: number[] = [];
    for (let k = 0; k < plan.perGroup; k++) {
      bytes.push(at * 4);
      at = words[at]!;
    }
    const offset = plan.groupOffset[g]!;
    assert.ok(bytes.every((b) => b >= offset && b < offset + layout.groupBytes), `group ${g}`);
    assert.equal(at, plan.firstWord[(g + 1) % groups], "ends on the next group's first word");
    assert.equal(chaseLoads(words, plan.firstWord[g]!, plan.perGroup), at);
    visited.add(offset);
  }
  assert.equal(visited.size, groups, "every group once per cycle");
});

Deno.test("nextGroups: the cycle continues where the last refresh stopped, wrapping", () => {
  const plan = planRing(buildChaseOrder(layout, 7), layout);
  let r = nextGroups(plan, 0, 3);
  assert.deepEqual(r, { groups: [0, 1, 2], position: 3 });
  r = nextGroups(plan, 7, 2);
  assert.deepEqual(r, { groups: [7, 0], position: 1 });
});

const hasNode0 = (() => {
  try {
    Deno.statSync("/sys/devices/system/node/node0");
    return Deno.build.os === "linux" && Deno.build.arch === "x86_64";
  } catch {
    return false;
  }
})();

Deno.test({
  name: "Ring.open binds, writes and verifies a ring on node 0; dispose twice is harmless",
  ignore: !hasNode0,
  fn() {
    const ringLayout = { bufferBytes: 1024 * 1024, groupBytes: 256 * 1024, strideBytes: 256 };
    const opened = Ring.open(libc(), 0, ringLayout, 1, null);
    assert.ok(opened.ok, opened.ok ? "" : opened.reason);
    using ring = opened.ring;
    assert.equal(ring.address % BigInt(2 * 1024 * 1024), 0n, "2 MiB aligned for THP");
    assert.equal(ring.plan.firstWord.length, 4);
    assert.ok(ring.open);
    ring[Symbol.dispose]();
    assert.equal(ring.open, false);
  },
});

Deno.test("Ring.open refuses a node without the free memory for it", () => {
  const opened = Ring.open(libc(), 0, layout, 1, 1024);
  assert.equal(opened.ok, false);
  assert.match(opened.ok ? "" : opened.reason, /node 0 has 0 MiB free/);
});
