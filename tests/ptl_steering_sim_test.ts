/**
 * Steering still follows latency under the PTL budget: on the simulated
 * machine, at the daemon's default intervals and budget, contention that
 * starts on a node's memory changes the steering array within 3 refresh
 * intervals, and the kernel model receives it; when the contention ends the
 * array changes back, and the kernel receives that too.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../src/options.ts";
import type { Snapshot } from "../src/core/snapshot.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { SimHost } from "../src/sim/host.ts";
import { defaultScenario, SIM_PIDS } from "../src/sim/workloads.ts";

const LOCAL = new Array(8).fill(-1);

interface Sim {
  host: SimHost;
  daemon: Daemon;
  /** -u = -i at the defaults: one tick per refresh interval. */
  intervalMs: number;
}

/** One update interval: tick, let the simulated time and the kernel calls run. */
async function step(sim: Sim): Promise<Snapshot> {
  const snapshot = await sim.daemon.tick();
  await sim.host.advance(sim.intervalMs);
  await sim.daemon.settle();
  await sim.daemon.ptlIdle();
  return snapshot;
}

/** The steering array the kernel model holds for the replicated workload. */
function kernelSteering(host: SimHost): number[] | null {
  const p = host.kernel.processes.get(SIM_PIDS.stream);
  return p === undefined ? null : [...p.steering];
}

/** Refresh intervals (ticks at -i = -u) until the kernel holds `expected`, at most `limit`. */
async function intervalsUntil(sim: Sim, expected: number[], limit: number): Promise<number | null> {
  for (let i = 1; i <= limit; i++) {
    const snapshot = await step(sim);
    const array = snapshot.steering?.array ?? null;
    if (
      array !== null && array.every((v, k) => v === expected[k]) &&
      kernelSteering(sim.host)?.every((v, k) => v === expected[k])
    ) return i;
  }
  return null;
}

Deno.test("contention on a node's memory changes steering within 3 refresh intervals, and back", async () => {
  const host = new SimHost({
    nodes: 4,
    seed: 3,
    manualClock: true,
    scenario: defaultScenario({ seed: 3 }),
  });
  const config = { ...defaultConfig(), simNodes: 4 };
  const daemon = await Daemon.open(host, config, { selfPid: SIM_PIDS.waspd });
  const sim: Sim = { host, daemon, intervalMs: config.ptlIntervalMs };
  try {
    assert.equal(config.ptlIntervalMs, config.updateIntervalMs, "defaults: one refresh per tick");
    // No contention to begin with: every node walks its own replica.
    host.prober.setCongested(null);
    const replicated = () => host.kernel.replicated().some((p) => p.pid === SIM_PIDS.stream);
    for (let i = 0; i < 30 && !replicated(); i++) await step(sim);
    assert.ok(replicated(), "the stream workload was replicated");
    const last = await step(sim);
    assert.deepEqual(last.steering?.array, LOCAL);
    assert.deepEqual(kernelSteering(host), LOCAL);
    const method = last.daemon?.ptl_method;
    assert.equal(method?.method, "sim");
    assert.equal(method?.slowed, false, "16 cells fit the default budget every interval");

    // Node 0's memory becomes contended: its CPUs are better served by node 1.
    host.prober.setCongested(0);
    const contended = [...LOCAL];
    contended[0] = 1;
    const onset = await intervalsUntil(sim, contended, 3);
    assert.ok(onset !== null, "steering moved node 0 to node 1 within 3 intervals");

    // Contention ends: back to local.
    host.prober.setCongested(null);
    const relief = await intervalsUntil(sim, LOCAL, 3);
    assert.ok(relief !== null, "steering came back within 3 intervals");
  } finally {
    await daemon.shutdown();
  }
});
