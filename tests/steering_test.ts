import assert from "node:assert/strict";
import { computeSteering, steeringArray } from "../src/core/steering.ts";
import { formatLatencyTable, formatSteering } from "../src/core/ptl_format.ts";
import { type PtlMeasurement, STEERING_SLOTS } from "../src/core/types.ts";
import { ptlMeasurement } from "./fixtures/ptl_measurement.ts";

/** A measurement with the given cells; spread defaults to 2% everywhere. */
function measurement(
  rows: number[],
  cols: number[],
  latencyNs: (number | null)[][],
  spread?: (number | null)[][],
  errors?: (string | null)[][],
): PtlMeasurement {
  return ptlMeasurement(latencyNs, {
    rows,
    cols,
    ...(spread ? { spread } : {}),
    ...(errors ? { errors } : {}),
  });
}

Deno.test("local stays when a remote node is faster only within the spread", () => {
  // Node 0: remote 1 is 3 ns faster, spread 5% of 100 ns = 5 ns: noise.
  const m = measurement([0, 1], [0, 1], [[100, 97], [140, 90]], [[0.05, 0.05], [0.02, 0.02]]);
  assert.deepEqual(computeSteering(m).choices, [
    { node: 0, replica: 0, remote: false },
    { node: 1, replica: 1, remote: false },
  ]);
});

Deno.test("a remote node wins when it beats local by more than the spread", () => {
  const m = measurement([0, 1], [0, 1], [[100, 80], [140, 90]], [[0.05, 0.05], [0.02, 0.02]]);
  assert.deepEqual(computeSteering(m).choices[0], { node: 0, replica: 1, remote: true });
  // The same gap with a 25% spread on the remote cell is noise again.
  const noisy = measurement([0, 1], [0, 1], [[100, 80], [140, 90]], [[0.05, 0.25], [0.02, 0.02]]);
  assert.deepEqual(computeSteering(noisy).choices[0], { node: 0, replica: 0, remote: false });
  // 15 ns faster, 10 ns and 8.5 ns of noise on each side: the round ranges
  // overlap, so it is still noise (the two bands add up).
  const overlap = measurement([0, 1], [0, 1], [[100, 85], [140, 90]], [[0.1, 0.1], [0.02, 0.02]]);
  assert.deepEqual(computeSteering(overlap).choices[0], { node: 0, replica: 0, remote: false });
  // An unknown spread never lets a remote win.
  const unknown = measurement([0, 1], [0, 1], [[100, 50], [140, 90]], [[null, 0.01], [0.02, 0.02]]);
  assert.deepEqual(computeSteering(unknown).choices[0], { node: 0, replica: 0, remote: false });
});

Deno.test("failed cells are ignored; a row with no usable cell stays local", () => {
  const m = measurement(
    [0, 1],
    [0, 1, 2],
    [[100, 20, 99.5], [null, null, null]],
    [[0.01, 0.01, 0.01], [null, null, null]],
    [[null, "placement: 3 on node 0", null], ["ENOMEM", "ENOMEM", "ENOMEM"]],
  );
  const s = computeSteering(m);
  // The 20 ns cell failed placement: it is not a latency and cannot win.
  assert.deepEqual(s.choices, [
    { node: 0, replica: 0, remote: false },
    { node: 1, replica: 1, remote: false },
  ]);
});

Deno.test("a CPU-only row takes the fastest replica outright", () => {
  // Node 2 has CPUs but no memory: a row and not a column. Node 3 has both.
  const m = measurement([0, 2, 3], [0, 3], [[90, 150], [130, 120], [140, 95]]);
  assert.deepEqual(computeSteering(m).choices[1], { node: 2, replica: 3, remote: true });
  assert.deepEqual(steeringArray(computeSteering(m)), [-1, -1, 3, -1, -1, -1, -1, -1]);
});

Deno.test("a memory-only column is never chosen, however fast: the mask gives it no replica", () => {
  // Node 3 is memory only (CXL-like, or QEMU's -numa node without CPUs): a column, never a row.
  const m = measurement([0, 1], [0, 1, 3], [[200, 250, 120], [210, 100, 130]]);
  const s = computeSteering(m);
  assert.deepEqual(s.choices, [
    { node: 0, replica: 0, remote: false },
    { node: 1, replica: 1, remote: false },
  ]);
  assert.deepEqual(steeringArray(s), new Array(STEERING_SLOTS).fill(-1));
  // The next fastest node with CPUs still wins when it beats local beyond noise.
  const far = measurement([0, 1], [0, 1, 3], [[200, 120, 60], [210, 100, 130]]);
  assert.deepEqual(computeSteering(far).choices[0], { node: 0, replica: 1, remote: true });
  // A CPU-only row whose only faster column is memory-only takes the fastest replica.
  const cpuOnly = measurement([0, 2], [0, 1], [[90, 150], [130, 120]]);
  assert.deepEqual(computeSteering(cpuOnly).choices[1], { node: 2, replica: 0, remote: true });
});

Deno.test("steeringArray: 8 entries, -1 = local, nodes beyond the slots dropped", () => {
  const s = {
    choices: [
      { node: 0, replica: 0, remote: false },
      { node: 1, replica: 3, remote: true },
      { node: 2, replica: 2, remote: false },
      { node: 3, replica: 1, remote: true },
      { node: 9, replica: 1, remote: true },
    ],
  };
  const array = steeringArray(s);
  assert.equal(array.length, STEERING_SLOTS);
  assert.deepEqual(array, [-1, 3, -1, 1, -1, -1, -1, -1]);
  assert.deepEqual(steeringArray({ choices: [] }), new Array(8).fill(-1));
});

Deno.test("formatLatencyTable and formatSteering render cells, errors and the array", () => {
  const m = measurement(
    [0, 1],
    [0, 1],
    [[89.24, 140.06], [141, null]],
    [[0.008, 0.01], [0.02, null]],
    [[null, null], [null, "mbind(nodes 1) failed: EINVAL (Invalid argument)"]],
  );
  const table = formatLatencyTable(m);
  assert.match(table, /buffer 64 MiB per node; measured in 42 ms/);
  assert.match(table, /\n\s+cpu node\s+0\s+1\n\s+0\s+89\.2\s+140\.1\n\s+1\s+141\.0\s+error\n/);
  assert.match(table, /0\.8%/);
  assert.match(table, /cpu node 1 -> memory node 1: mbind\(nodes 1\) failed: EINVAL/);
  const steering = formatSteering(computeSteering(m));
  assert.match(steering, /\n\s+1\s+0 {2}\(remote\)\n/);
  assert.match(steering, /prctl 104 array: \[-1, 0, -1, -1, -1, -1, -1, -1\]/);
  assert.match(formatLatencyTable(measurement([], [], [])), /nothing to measure/);
});
