/** The small facts several layers share: one statement each. */
import assert from "node:assert/strict";
import { isStopped } from "../src/core/process_state.ts";
import { clampUpdateInterval, MAX_UPDATE_MS, MIN_UPDATE_MS } from "../src/core/update_interval.ts";

Deno.test("isStopped: T (stopped) and t (traced) only", () => {
  assert.deepEqual(["T", "t"].map(isStopped), [true, true]);
  assert.deepEqual(["R", "S", "D", "Z", "X", "I", ""].map(isStopped), [
    false,
    false,
    false,
    false,
    false,
    false,
    false,
  ]);
});

Deno.test("clampUpdateInterval: rounds, then keeps within 100 ms .. 60 s", () => {
  assert.equal(clampUpdateInterval(1000), 1000);
  assert.equal(clampUpdateInterval(250.6), 251);
  assert.equal(clampUpdateInterval(50), MIN_UPDATE_MS);
  assert.equal(clampUpdateInterval(120_000), MAX_UPDATE_MS);
  assert.deepEqual([MIN_UPDATE_MS, MAX_UPDATE_MS], [100, 60_000]);
});
