import assert from "node:assert/strict";
import {
  buildChaseOrder,
  type ChaseLayout,
  chaseLoads,
  isSingleCycle,
  layoutProblems,
  orderToNext,
  sattoloCycle,
  summarizeRounds,
  writeChain,
} from "../probe/chase.ts";
import { seededRandom } from "../src/core/random.ts";

/** A plain Fisher-Yates shuffle used as a next table: the mistake Sattolo avoids. */
function plainShuffleNext(n: number, seed: number): Uint32Array {
  const random = seededRandom(seed);
  const next = new Uint32Array(n);
  for (let i = 0; i < n; i++) next[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = next[i]!;
    next[i] = next[j]!;
    next[j] = t;
  }
  return next;
}

Deno.test("sattoloCycle is one cycle for every size 1..300 and many seeds", () => {
  for (let n = 1; n <= 300; n++) {
    for (const seed of [1, 2, 42, 0xdeadbeef]) {
      assert.ok(isSingleCycle(sattoloCycle(n, seededRandom(seed))), `n=${n} seed=${seed}`);
    }
  }
});

Deno.test("a plain shuffle is caught by isSingleCycle (it splits into short cycles)", () => {
  let caught = 0;
  for (let seed = 1; seed <= 50; seed++) {
    if (!isSingleCycle(plainShuffleNext(1000, seed))) caught++;
  }
  // A uniform permutation of 1000 is a single cycle with probability 1/1000.
  assert.ok(caught >= 49, `only ${caught} of 50 shuffles were rejected`);
  assert.equal(isSingleCycle(new Uint32Array([1, 0, 3, 2])), false);
  assert.equal(isSingleCycle([0, 0]), false);
  assert.equal(isSingleCycle([1, 5]), false);
  assert.equal(isSingleCycle([]), false);
});

Deno.test("buildChaseOrder visits every element exactly once in one cycle", () => {
  const layouts: ChaseLayout[] = [
    { bufferBytes: 256, groupBytes: 256, strideBytes: 256 },
    { bufferBytes: 4096, groupBytes: 4096, strideBytes: 64 },
    { bufferBytes: 64 * 1024, groupBytes: 4096, strideBytes: 256 },
    { bufferBytes: 3 * 8192, groupBytes: 8192, strideBytes: 64 },
    { bufferBytes: 4 * 1024 * 1024, groupBytes: 256 * 1024, strideBytes: 256 },
  ];
  for (const layout of layouts) {
    for (const seed of [1, 7, 123456]) {
      const order = buildChaseOrder(layout, seed);
      const n = layout.bufferBytes / layout.strideBytes;
      assert.equal(order.length, n);
      assert.equal(new Set(order).size, n, "every element once");
      assert.ok(isSingleCycle(orderToNext(order)));
    }
  }
});

Deno.test("buildChaseOrder stays inside one TLB group until the group is done", () => {
  const layout = { bufferBytes: 1024 * 1024, groupBytes: 64 * 1024, strideBytes: 256 };
  const order = buildChaseOrder(layout, 3);
  const perGroup = layout.groupBytes / layout.strideBytes;
  const groupsSeen: number[] = [];
  for (let k = 0; k < order.length; k += perGroup) {
    const group = Math.floor(order[k]! / perGroup);
    for (let e = 0; e < perGroup; e++) {
      assert.equal(Math.floor(order[k + e]! / perGroup), group, `position ${k + e}`);
    }
    groupsSeen.push(group);
  }
  assert.equal(new Set(groupsSeen).size, layout.bufferBytes / layout.groupBytes);
});

Deno.test("buildChaseOrder is deterministic per seed and differs across seeds", () => {
  const layout = { bufferBytes: 1024 * 1024, groupBytes: 256 * 1024, strideBytes: 256 };
  assert.deepEqual(buildChaseOrder(layout, 9), buildChaseOrder(layout, 9));
  assert.notDeepEqual(buildChaseOrder(layout, 9), buildChaseOrder(layout, 10));
});

Deno.test("layout problems are reported, not guessed around", () => {
  assert.deepEqual(layoutProblems({ bufferBytes: 4096, groupBytes: 4096, strideBytes: 64 }), []);
  assert.match(
    layoutProblems({ bufferBytes: 5000, groupBytes: 4096, strideBytes: 64 })[0]!,
    /multiple of groupBytes/,
  );
  assert.match(
    layoutProblems({ bufferBytes: 4096, groupBytes: 4096, strideBytes: 6 }).join(),
    /multiple of 4/,
  );
  assert.match(
    layoutProblems({ bufferBytes: 0, groupBytes: 4096, strideBytes: 64 })[0]!,
    /positive integer/,
  );
  assert.throws(
    () => buildChaseOrder({ bufferBytes: 100, groupBytes: 64, strideBytes: 64 }, 1),
    RangeError,
  );
});

Deno.test("writeChain + chaseLoads walk the whole cycle back to the start", () => {
  const layout = { bufferBytes: 64 * 1024, groupBytes: 8192, strideBytes: 128 };
  const order = buildChaseOrder(layout, 5);
  const words = new Uint32Array(layout.bufferBytes / 4);
  const start = writeChain(words, order, layout.strideBytes);
  assert.equal(start, order[0]! * 32);
  // One load lands on the second element of the order; n loads come back.
  assert.equal(chaseLoads(words, start, 1), order[1]! * 32);
  assert.equal(chaseLoads(words, start, 13), order[13]! * 32);
  assert.equal(chaseLoads(words, start, order.length), start);
  assert.throws(() => writeChain(new Uint32Array(8), order, layout.strideBytes), RangeError);
});

Deno.test("summarizeRounds: median and (max-min)/median; null for nothing usable", () => {
  assert.deepEqual(summarizeRounds([100, 110, 90]), { median: 100, spread: 0.2 });
  assert.deepEqual(summarizeRounds([100, 120]), { median: 110, spread: 20 / 110 });
  assert.equal(summarizeRounds([]), null);
  assert.equal(summarizeRounds([100, NaN]), null);
  assert.equal(summarizeRounds([0, 0]), null);
});
