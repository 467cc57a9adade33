/** What a new PTL measurement means to the daemon: log it? push steering? */
import assert from "node:assert/strict";
import { LatencyState } from "../src/daemon/latency_state.ts";
import type { PtlMeasurement } from "../src/core/types.ts";
import { ptlMeasurement } from "./fixtures/ptl_measurement.ts";

/** Two nodes; node 0 steers to node 1 when `remoteFaster`. */
function measurement(remoteFaster: boolean): PtlMeasurement {
  return ptlMeasurement([[100, remoteFaster ? 60 : 140], [140, 100]]);
}

Deno.test("the first measurement is news: logged, steering to push", () => {
  const state = new LatencyState();
  assert.equal(state.snapshotSteering(), null);
  const news = state.measured(measurement(false));
  assert.equal(news.changed, true);
  assert.equal(news.log, "PTL 2x2 measured in 42 ms");
  assert.deepEqual(state.array, news.array);
  assert.deepEqual(state.snapshotSteering()?.array, news.array);
});

Deno.test("the same matrix again is not logged; a changed one says the new steering", () => {
  const state = new LatencyState();
  state.measured(measurement(false));
  assert.deepEqual(state.measured(measurement(false)), {
    changed: false,
    array: state.array,
    log: null,
  });
  const news = state.measured(measurement(true));
  assert.equal(news.changed, true);
  assert.equal(news.array[0], 1, "node 0 now steers to node 1");
  assert.equal(news.log, `PTL 2x2 measured in 42 ms: steering now [${news.array.join(" ")}]`);
});

Deno.test("an asked-for measurement is logged once even when nothing changed", () => {
  const state = new LatencyState();
  state.measured(measurement(false));
  state.askedToRemeasure();
  assert.equal(state.measured(measurement(false)).log, "PTL 2x2 measured in 42 ms");
  assert.equal(state.measured(measurement(false)).log, null);
});

Deno.test("a failure is remembered until the next good measurement", () => {
  const state = new LatencyState();
  state.failed("worker died");
  assert.equal(state.error, "worker died");
  state.measured(measurement(false));
  assert.equal(state.error, null);
});
