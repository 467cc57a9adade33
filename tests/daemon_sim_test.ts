/**
 * The daemon loop end to end on the simulated machine, minutes of simulated
 * time per test on a manual clock: what it replicates and when, steering,
 * hysteresis on a flapping workload, exits, the undo, and agreement between
 * the simulated kernel and the daemon's snapshot at every tick.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../src/options.ts";
import type { EventJson, Snapshot } from "../src/core/snapshot.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { SimHost } from "../src/sim/host.ts";
import { defaultScenario, SIM_PIDS, STREAM_END_MS } from "../src/sim/workloads.ts";

const HYSTERESIS_MS = 3000;
const UPDATE_MS = 1000;

interface Run {
  host: SimHost;
  daemon: Daemon;
  snapshots: Snapshot[];
  events: EventJson[];
  /** Just before each tick: the pids the kernel model reports replicated. */
  kernelReplicated: Set<number>[];
}

async function simulate(seconds: number, options: { flapPeriodMs?: number } = {}): Promise<Run> {
  const scenario = defaultScenario({ seed: 3, ...options });
  const host = new SimHost({ nodes: 4, seed: 3, manualClock: true, scenario });
  const daemon = await Daemon.open(host, {
    ...defaultConfig(),
    simNodes: 4,
    hysteresisMs: HYSTERESIS_MS,
    updateIntervalMs: UPDATE_MS,
    ptlIntervalMs: 10_000,
  }, { selfPid: SIM_PIDS.waspd });
  const run: Run = { host, daemon, snapshots: [], events: [], kernelReplicated: [] };
  for (let t = 0; t < seconds; t++) {
    run.kernelReplicated.push(new Set(host.kernel.replicated().map((p) => p.pid)));
    const snapshot = await daemon.tick();
    run.snapshots.push(snapshot);
    run.events.push(...snapshot.events);
    // Kernel calls and probes started by the tick finish within the interval.
    await host.advance(UPDATE_MS);
    await daemon.settle();
  }
  return run;
}

function toggles(events: EventJson[], pid: number): EventJson[] {
  return events.filter((e) => e.pid === pid && (e.kind === "enable" || e.kind === "disable"));
}

Deno.test("a memory-heavy workload is replicated after the hysteresis, and steering is pushed to it", async () => {
  const run = await simulate(40);
  try {
    const stream = SIM_PIDS.stream;
    const firstWatch = run.events.find((e) => e.pid === stream && e.kind === "decision");
    const enabled = run.events.find((e) => e.pid === stream && e.kind === "enable");
    assert.ok(firstWatch && enabled, "stream was watched, then enabled");
    const waited = Date.parse(enabled.time) - Date.parse(firstWatch.time);
    assert.ok(waited >= HYSTERESIS_MS, `enabled ${waited} ms after going above`);
    assert.ok(run.host.kernel.replicated().some((p) => p.pid === stream));

    // Steering: the kernel holds what the snapshot says was computed.
    const last = run.snapshots.at(-1);
    assert.ok(last?.steering, "a steering matrix was computed");
    const kernelSteering = run.host.kernel.processes.get(stream)?.steering;
    assert.deepEqual([...(kernelSteering ?? [])], last.steering.array);
    assert.ok(last.steering.array.some((v) => v !== -1), "the congested node steers remote");
    assert.ok(run.events.some((e) => e.pid === stream && e.kind === "steer"));

    // Excluded and unsuitable processes are never touched.
    for (const pid of [SIM_PIDS.idle, SIM_PIDS.compute, SIM_PIDS.sshd, SIM_PIDS.bash]) {
      assert.equal(toggles(run.events, pid).length, 0, `pid ${pid} untouched`);
    }
    // The stopped process is never called.
    assert.ok(!run.host.kernel.replicated().some((p) => p.pid === SIM_PIDS.frozen));
    assert.ok(!run.daemon.stuckPids().includes(SIM_PIDS.frozen));
  } finally {
    await run.daemon.shutdown();
  }
});

Deno.test("a flapping workload is never toggled faster than the hysteresis allows", async () => {
  const run = await simulate(90, { flapPeriodMs: 1600 });
  try {
    const flips = toggles(run.events, SIM_PIDS.flapper).map((e) => Date.parse(e.time));
    for (let i = 1; i < flips.length; i++) {
      const gap = (flips[i] ?? 0) - (flips[i - 1] ?? 0);
      assert.ok(gap >= HYSTERESIS_MS, `toggles ${gap} ms apart`);
    }
    // Its status went through watch / candidate without flipping on every tick.
    const statuses = run.snapshots.map((s) =>
      s.processes.find((p) => p.pid === SIM_PIDS.flapper)?.status
    );
    assert.ok(statuses.includes("watch"));
    assert.ok(
      flips.length < statuses.length / 3,
      `${flips.length} toggles in ${statuses.length} ticks`,
    );
  } finally {
    await run.daemon.shutdown();
  }
});

Deno.test("ending a workload ends its replication; the kernel and the snapshot agree every tick", async () => {
  const run = await simulate(Math.ceil(STREAM_END_MS / 1000) + 5);
  try {
    run.snapshots.forEach((snapshot, i) => {
      const fromSnapshot = new Set(
        snapshot.mitosis?.active.filter((a) => a.live).map((a) => a.pid) ?? [],
      );
      // The snapshot reads the kernel at the start of its tick; calls it starts land after.
      const kernel = [...(run.kernelReplicated[i] ?? [])].sort();
      assert.deepEqual([...fromSnapshot].sort(), kernel, `tick ${i + 1}`);
      for (const p of snapshot.processes) {
        assert.equal(p.replicated, fromSnapshot.has(p.pid), `tick ${i + 1} pid ${p.pid}`);
      }
    });
    const last = run.snapshots.at(-1);
    assert.ok(!last?.processes.some((p) => p.pid === SIM_PIDS.stream), "stream has exited");
    assert.ok(!run.host.kernel.replicated().some((p) => p.pid === SIM_PIDS.stream));
  } finally {
    await run.daemon.shutdown();
  }
});

Deno.test("exit undoes everything waspd turned on and restores the mode it found", async () => {
  const run = await simulate(30);
  const modeBefore = run.snapshots[0]?.mitosis?.mode;
  run.daemon.act({ kind: "toggleMode" });
  await run.daemon.settle();
  assert.notEqual(run.host.kernel.mode, modeBefore, "mode toggled");
  assert.ok(run.host.kernel.replicated().length > 0, "something is replicated before the exit");
  const lines = await run.daemon.shutdown();
  assert.deepEqual(run.host.kernel.replicated().map((p) => p.pid), []);
  assert.equal(run.host.kernel.mode, modeBefore);
  assert.ok(lines.some((l) => /replication turned off for pid \d+/.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => /mode restored/.test(l)), lines.join("\n"));
});

Deno.test("same seed, same run: the simulation is deterministic", async () => {
  const a = await simulate(20);
  const b = await simulate(20);
  try {
    const strip = (s: Snapshot) => ({ ...s, tick_ms: null });
    assert.deepEqual(a.snapshots.map(strip), b.snapshots.map(strip));
  } finally {
    await a.daemon.shutdown();
    await b.daemon.shutdown();
  }
});
