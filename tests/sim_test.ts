import assert from "node:assert/strict";
import { type ProcessInfo, processKeyString, type PtlMeasurement } from "../src/core/types.ts";
import { DEFAULT_EXCLUDED_NAMES, isExcludedName } from "../src/config.ts";
import { SimClock } from "../src/sim/clock.ts";
import { SimHost } from "../src/sim/host.ts";
import { SeededRng } from "../src/sim/rng.ts";
import { SIM_MAX_NODES, simTopology, slitMatrix } from "../src/sim/topology.ts";
import {
  activityAt,
  BURST_EVERY_MS,
  BURST_FIRST_MS,
  defaultScenario,
  EPOCH_MS,
  GUPS_START_MS,
  SIM_PIDS,
  STREAM_END_MS,
  type Workload,
} from "../src/sim/workloads.ts";

const THR_MAR = 1e7;
const THR_DTLB = 0.01;

function byPid(list: readonly ProcessInfo[], pid: number): ProcessInfo | undefined {
  return list.find((p) => p.pid === pid);
}

function workloadOf(host: SimHost, pid: number, atMs: number): Workload {
  const w = host.scenario.find((x) =>
    x.pid === pid && x.startMs <= atMs && (x.endMs === null || atMs < x.endMs)
  );
  assert.ok(w, `no workload with pid ${pid} at ${atMs} ms`);
  return w;
}

function argmin(row: readonly (number | null)[]): number {
  let best = -1;
  row.forEach((v, i) => {
    if (v !== null && (best < 0 || v < (row[best] ?? Infinity))) best = i;
  });
  return best;
}

async function measure(host: SimHost): Promise<PtlMeasurement> {
  const pending = host.prober.measure(await host.topology());
  await host.advance(60_000); // the probe takes simulated time
  return await pending;
}

// ---------------------------------------------------------------- rng and clock

Deno.test("rng: same seed same stream; forks are independent and stable", () => {
  const a = new SeededRng(42), b = new SeededRng(42), c = new SeededRng(43);
  const seqA = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(seqA, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(seqA, Array.from({ length: 5 }, () => c.next()));
  assert.ok(seqA.every((x) => x >= 0 && x < 1));
  const f1 = new SeededRng(7).fork("probe").next();
  const parent = new SeededRng(7);
  parent.next(); // draws on the parent do not move a fork
  assert.equal(parent.fork("probe").next(), f1);
  assert.notEqual(new SeededRng(7).fork("other").next(), f1);
});

Deno.test("clock (manual): sleep resolves only when advance passes its deadline", async () => {
  const clock = new SimClock({ manual: true });
  const woke: number[] = [];
  const p = clock.sleep(1000).then(() => woke.push(clock.now()));
  await clock.advance(999);
  assert.deepEqual(woke, []);
  await clock.advance(1);
  await p;
  assert.deepEqual(woke, [1000]);
  assert.equal(clock.now(), 1000);
});

Deno.test("clock (manual): a loop that sleeps again runs once per interval inside one advance", async () => {
  const clock = new SimClock({ manual: true });
  const ticks: number[] = [];
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      ticks.push(clock.now());
      await clock.sleep(1000, stop.signal);
    }
  })();
  await clock.advance(180_000); // three simulated minutes
  stop.abort();
  await loop;
  assert.equal(ticks.length, 181);
  assert.equal(ticks[180], 180_000);
  assert.equal(clock.pendingSleeps, 0);
});

Deno.test("clock (manual): a loop doing real file I/O between sleeps still wakes every interval", async () => {
  const clock = new SimClock({ manual: true });
  const path = await Deno.makeTempFile({ prefix: "waspd_sim_clock_" });
  const ticks: number[] = [];
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      ticks.push(clock.now());
      await Deno.writeTextFile(path, `${clock.now()}\n`, { append: true });
      await clock.sleep(1000, stop.signal);
    }
  })();
  await clock.whenSleeping(); // the first tick's write may still be in flight
  await clock.advance(20_000);
  stop.abort();
  await loop;
  await Deno.remove(path);
  assert.deepEqual(ticks, Array.from({ length: 21 }, (_, i) => i * 1000), ticks.join(" "));
});

Deno.test("clock (scaled): simulated time runs timeScale times faster", async () => {
  const clock = new SimClock({ timeScale: 1000 });
  const before = clock.now();
  await clock.sleep(2000); // 2 real ms
  assert.ok(clock.now() - before >= 2000 * 0.9, `advanced only ${clock.now() - before} ms`);
  assert.throws(() => new SimClock({ timeScale: 0 }), /timeScale/);
  await assert.rejects(() => clock.advance(10), /manual/);
});

// ---------------------------------------------------------------- topology

Deno.test("topology: SLIT is symmetric in shape, asymmetric in distances (sockets of two nodes)", async () => {
  const host = new SimHost({ nodes: 4, manualClock: true });
  const topo = await host.topology();
  assert.equal(topo.nodes.length, 4);
  const slit = topo.nodes.map((n) => n.distances);
  slit.forEach((row, i) => {
    assert.equal(row.length, 4);
    assert.equal(row[i], 10);
    row.forEach((d, j) => assert.equal(d, slit[j]?.[i], `d[${i}][${j}] != d[${j}][${i}]`));
  });
  assert.deepEqual(slit[0], [10, 16, 32, 32]);
  assert.deepEqual(slit[3], [32, 32, 16, 10]);
  const cpus = topo.nodes.flatMap((n) => n.cpus);
  assert.equal(new Set(cpus).size, cpus.length, "CPUs are not shared between nodes");
  assert.ok(topo.nodes.every((n) => n.cpus.length > 0 && (n.memFreeKb ?? 0) > 0));
  assert.equal(topo.fiveLevelPaging.active, false);
  assert.match(topo.cpu.modelName ?? "", /Simulated/);
  assert.equal(host.hostname(), "sim-4node");
  assert.equal(host.kernelRelease(), "6.4.0-wasp (simulated)");
  assert.equal(host.simulated, true);
  assert.equal(host.privileges().root, true);
  await host.close();
});

Deno.test("topology: 1 and 64 nodes work, 0 and 65 are refused; free memory moves", async () => {
  assert.deepEqual(slitMatrix(1), [[10]]);
  assert.equal(simTopology(SIM_MAX_NODES).nodes.length, 64);
  assert.throws(() => new SimHost({ nodes: 0 }), /1\.\.64/);
  assert.throws(() => new SimHost({ nodes: 65 }), /1\.\.64/);
  const host = new SimHost({ nodes: 2, manualClock: true });
  const seen = new Set<number | null>();
  for (let s = 0; s < 5; s++) {
    const topo = await host.topology();
    seen.add(topo.nodes[0]?.memFreeKb ?? null);
    await host.advance(1000);
  }
  assert.ok(seen.size > 1, "memFree never changed");
  assert.ok(!seen.has(null));
  await host.close();
});

// ---------------------------------------------------------------- processes

Deno.test("processes: the scenario appears and exits over simulated time", async () => {
  const host = new SimHost({ manualClock: true });
  const at0 = await host.processes();
  assert.ok(byPid(at0, SIM_PIDS.stream), "stream runs from t=0");
  assert.equal(byPid(at0, SIM_PIDS.gups), undefined, "gups has not started yet");
  assert.equal(byPid(at0, SIM_PIDS.frozen)?.state, "T");
  assert.equal(byPid(at0, SIM_PIDS.kworker)?.kernelThread, true);
  assert.equal(byPid(at0, SIM_PIDS.sshd)?.name, "sshd");
  assert.equal(byPid(at0, SIM_PIDS.bash)?.name, "bash");
  assert.equal(byPid(at0, SIM_PIDS.stream)?.threads, 8);

  await host.advance(GUPS_START_MS + 1000);
  const later = await host.processes();
  assert.ok(byPid(later, SIM_PIDS.gups), "gups started");
  const s0 = byPid(at0, SIM_PIDS.stream), s1 = byPid(later, SIM_PIDS.stream);
  assert.ok(s0 && s1 && s1.minorFaults > s0.minorFaults, "fault counters increase");
  assert.ok(s1.rssKb >= s0.rssKb);
  assert.equal(s1.startTime, s0.startTime, "identity is stable");

  const streamKey = { pid: s1.pid, startTime: s1.startTime };
  assert.ok(await host.confirm(streamKey));
  await host.advance(STREAM_END_MS - host.clock.now() + 1);
  assert.equal(byPid(await host.processes(), SIM_PIDS.stream), undefined, "stream exited");
  assert.equal(await host.confirm(streamKey), null);
  await host.close();
});

Deno.test("processes: a burst pid is reused with a new start time; confirm tells them apart", async () => {
  const host = new SimHost({ manualClock: true });
  await host.advance(BURST_FIRST_MS + 1000);
  const first = byPid(await host.processes(), SIM_PIDS.burstA);
  assert.ok(first, "first burst runs");
  // Third burst reuses burstA's pid.
  await host.advance(2 * BURST_EVERY_MS);
  const reused = byPid(await host.processes(), SIM_PIDS.burstA);
  assert.ok(reused, "third burst runs on the same pid");
  assert.notEqual(reused.startTime, first.startTime);
  assert.equal(await host.confirm(first), null, "the old identity is gone");
  assert.deepEqual(await host.confirm(reused), reused);
  await host.close();
});

// ---------------------------------------------------------------- counters

Deno.test("counters: walk cycles per load fall with replication where it helps, not where it does not", async () => {
  const host = new SimHost({ manualClock: true, seed: 5 });
  await host.advance(GUPS_START_MS + 1000);
  const targets = (await host.processes()).filter((p) =>
    p.pid === SIM_PIDS.gups || p.pid === SIM_PIDS.nogain
  );
  const perLoad = (a: Map<string, CounterReadingLike>, b: Map<string, CounterReadingLike>) =>
    new Map(targets.map((p) => {
      const key = processKeyString(p);
      const x = a.get(key)!, y = b.get(key)!;
      return [
        p.pid,
        ((y.walkCycles ?? NaN) - (x.walkCycles ?? NaN)) / ((y.loads ?? NaN) - (x.loads ?? NaN)),
      ];
    }));
  const r0 = host.counters.sample(targets);
  await host.advance(2000);
  const r1 = host.counters.sample(targets);
  const before = perLoad(r0, r1);
  const gups = workloadOf(host, SIM_PIDS.gups, host.clock.now());
  assert.ok(Math.abs(before.get(SIM_PIDS.gups)! - gups.cycle[0]!.dtlbRatio * 40) < 1e-3);
  for (const p of targets) assert.equal((await host.mitosis.setReplication(p, 1, 1000)).ok, true);
  // The interval the enable fell in counts at the state it began in.
  await host.advance(2000);
  const r2 = host.counters.sample(targets);
  assert.ok(Math.abs(perLoad(r1, r2).get(SIM_PIDS.gups)! - before.get(SIM_PIDS.gups)!) < 1e-3);
  await host.advance(2000);
  const after = perLoad(r2, host.counters.sample(targets));
  assert.ok(Math.abs(after.get(SIM_PIDS.gups)! / before.get(SIM_PIDS.gups)! - 0.6) < 1e-3);
  assert.ok(Math.abs(after.get(SIM_PIDS.nogain)! / before.get(SIM_PIDS.nogain)! - 1) < 1e-3);
  await host.close();
});

type CounterReadingLike = { loads: number | null; walkCycles?: number | null };

Deno.test("counters: derived MAR and dTLB ratio match the workload model", async () => {
  const host = new SimHost({ manualClock: true, seed: 5 });
  await host.advance(GUPS_START_MS + 1000);
  const targets = await host.processes();
  const first = host.counters.sample(targets);
  await host.advance(4000);
  const second = host.counters.sample(targets);
  for (const pid of [SIM_PIDS.stream, SIM_PIDS.gups, SIM_PIDS.idle, SIM_PIDS.compute]) {
    const key = processKeyString(byPid(targets, pid)!);
    const a = first.get(key), b = second.get(key);
    assert.ok(a && b, `readings for ${pid}`);
    const loads = (b.loads ?? NaN) - (a.loads ?? NaN);
    const walks = (b.walks ?? NaN) - (a.walks ?? NaN);
    const model = activityAt(workloadOf(host, pid, host.clock.now()), host.clock.now());
    // Readings are whole counts: each of the two may round by half a count.
    assert.ok(Math.abs(loads - model.mar * 4) <= 1, `MAR of ${pid}: ${loads / 4} vs ${model.mar}`);
    assert.ok(Math.abs(walks - model.mar * model.dtlbRatio * 4) <= 1, `dTLB of ${pid}`);
  }
  // The scenario sits on the intended sides of the default thresholds.
  const now = host.clock.now();
  const stream = activityAt(workloadOf(host, SIM_PIDS.stream, now), now);
  const gups = activityAt(workloadOf(host, SIM_PIDS.gups, now), now);
  const compute = activityAt(workloadOf(host, SIM_PIDS.compute, now), now);
  assert.ok(stream.mar > THR_MAR && stream.dtlbRatio > THR_DTLB);
  assert.ok(gups.mar > THR_MAR && gups.dtlbRatio > THR_DTLB);
  assert.ok(compute.mar > THR_MAR && compute.dtlbRatio < THR_DTLB);
  const gupsReading = second.get(processKeyString(byPid(targets, SIM_PIDS.gups)!))!;
  assert.equal(gupsReading.runningNs / gupsReading.enabledNs, 0.5, "gups is multiplexed");
  assert.equal(host.counters.status().source, "simulated");
  assert.equal(host.counters.status().available, true);
  await host.close();
});

Deno.test("counters: the flapper crosses both thresholds within one second windows", async () => {
  const host = new SimHost({ manualClock: true });
  const targets = await host.processes();
  const key = processKeyString(byPid(targets, SIM_PIDS.flapper)!);
  const mars: number[] = [];
  let last = host.counters.sample(targets).get(key)!;
  for (let s = 0; s < 8; s++) {
    await host.advance(800); // half period: one phase per window
    const next = host.counters.sample(targets).get(key)!;
    mars.push(((next.loads ?? 0) - (last.loads ?? 0)) / 0.8);
    last = next;
  }
  assert.ok(mars.some((m) => m > THR_MAR) && mars.some((m) => m < THR_MAR), mars.join(" "));
  await host.close();
});

Deno.test("counters: an exited process disappears; the fd budget is honoured", async () => {
  const host = new SimHost({ manualClock: true });
  const targets = await host.processes();
  const streamKey = processKeyString(byPid(targets, SIM_PIDS.stream)!);
  assert.ok(host.counters.sample(targets).has(streamKey));
  await host.advance(STREAM_END_MS + 1);
  const after = host.counters.sample(targets);
  assert.equal(after.has(streamKey), false);
  const status = host.counters.status();
  assert.ok(status.fdUsed > 0 && status.fdUsed <= status.fdBudget);
  await host.close();
  assert.equal(host.counters.status().available, false);
});

// ---------------------------------------------------------------- prober

Deno.test("prober: latency follows the SLIT, and the congested node's CPUs prefer a remote replica", async () => {
  const host = new SimHost({ nodes: 4, manualClock: true, seed: 3 });
  const m = await measure(host);
  assert.deepEqual(m.rows, [0, 1, 2, 3]);
  assert.deepEqual(m.cols, [0, 1, 2, 3]);
  assert.ok(m.durationMs > 0, "the probe takes simulated time");
  const congested = host.prober.congestedNode;
  assert.ok(congested !== null);
  m.rows.forEach((row, r) => {
    const best = argmin(m.latencyNs[r]!);
    if (row === congested) {
      assert.equal(best, row ^ 1, `row ${row} should prefer its socket sibling`);
    } else {
      assert.equal(best, r, `row ${row} should prefer local memory`);
    }
    m.spread[r]!.forEach((s) => assert.ok(s !== null && s >= 0 && s < 0.1));
    m.errors[r]!.forEach((e) => assert.equal(e, null));
  });
  // Cross-socket is slower than same-socket for an uncongested pair.
  const calm = m.rows.find((n) => n !== congested && (n ^ 1) !== congested)!;
  const row = m.latencyNs[calm]!;
  assert.ok(row[calm]! < row[calm ^ 1]!);
  await host.close();
});

Deno.test("prober: one node has no congested choice; abort ends a measurement", async () => {
  const host = new SimHost({ nodes: 1, manualClock: true });
  assert.equal(host.prober.congestedNode, null);
  const m = await measure(host);
  assert.deepEqual(m.rows, [0]);
  const abort = new AbortController();
  const pending = host.prober.measure(await host.topology(), { signal: abort.signal });
  abort.abort();
  const aborted = await pending;
  assert.equal(aborted.errors[0]?.[0], "aborted");
  assert.equal(aborted.latencyNs[0]?.[0], null);
  await host.close();
});

// ---------------------------------------------------------------- determinism

async function trace(seed: number) {
  const host = new SimHost({ nodes: 4, seed, manualClock: true });
  await host.advance(GUPS_START_MS + 2000);
  const procs = await host.processes();
  const c0 = host.counters.sample(procs);
  await host.advance(3000);
  const c1 = host.counters.sample(procs);
  const m = await measure(host);
  const topo = await host.topology();
  await host.close();
  return {
    procs,
    counters: [...c0.entries(), ...c1.entries()],
    latency: m.latencyNs,
    free: topo.nodes.map((n) => n.memFreeKb),
    congested: host.prober.congestedNode,
  };
}

Deno.test("determinism: same seed gives the same processes, counters and latencies", async () => {
  const a = await trace(11), b = await trace(11), c = await trace(12);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.latency, c.latency);
  assert.notDeepEqual(a.counters, c.counters);
});

Deno.test("scenario: every default workload has a non-empty cycle and a stable key", () => {
  const scenario = defaultScenario({ seed: 9, horizonMs: 200_000 });
  assert.ok(scenario.length > 10);
  for (const w of scenario) {
    assert.ok(w.cycle.length > 0 && w.cycle.every((p) => p.durationMs > 0), w.name);
    assert.ok(w.threads >= 1 && w.multiplexShare > 0 && w.multiplexShare <= 1, w.name);
  }
  const keys = scenario.map((w) => processKeyString(w));
  assert.equal(new Set(keys).size, keys.length, "pid+startTime is unique");
});

// ---------------------------------------------------------------- mitosis kernel model

Deno.test("mitosis: enabling a process shows it in the rendered /proc/mitosis/active", async () => {
  const host = new SimHost({ nodes: 4, manualClock: true });
  const detection = await host.mitosis.detect();
  assert.equal(detection.present, true);
  assert.equal(detection.variant, "wasp-6.4");
  const stream = byPid(await host.processes(), SIM_PIDS.stream)!;
  assert.match(host.kernel.renderFiles().active ?? "", /No active processes/);

  const enabled = await host.mitosis.setReplication(stream, 1, 1000);
  assert.deepEqual(enabled, { ok: true, value: 0 });
  await host.advance(2000);
  const active = host.kernel.renderFiles().active ?? "";
  assert.match(active, /Process: stream \(PID: 2001, TGID: 2001\) \[LIVE\]/);
  assert.match(active, /Replication nodes: 0, 1, 2, 3 \(4 nodes\)/);
  const state = await host.mitosis.read();
  assert.deepEqual(state.active.map((p) => [p.pid, p.nodes]), [[SIM_PIDS.stream, [0, 1, 2, 3]]]);
  assert.equal(state.replicationActive, true);

  // Steering: -1 defaults, then what was set.
  assert.deepEqual(await host.mitosis.getSteering(stream), [-1, -1, -1, -1, -1, -1, -1, -1]);
  const steer = [1, 0, 3, 2, -1, -1, -1, -1];
  assert.equal((await host.mitosis.setSteering(stream, steer)).ok, true);
  assert.deepEqual(await host.mitosis.getSteering(stream), steer);

  // The workload ends: the kernel model forgets it, and it no longer answers.
  await host.advance(STREAM_END_MS);
  assert.deepEqual((await host.mitosis.read()).active, []);
  const gone = await host.mitosis.setReplication(stream, 0, 1000);
  assert.equal(!gone.ok && !gone.stuck && gone.errno, "ESRCH");
  await host.close();
});

Deno.test("mitosis: prctl 100 on the stopped process never answers; the deadline makes it stuck", async () => {
  const host = new SimHost({ manualClock: true });
  const frozen = byPid(await host.processes(), SIM_PIDS.frozen)!;
  assert.equal(frozen.state, "T");
  let settled = false;
  const pending = host.mitosis.setReplication(frozen, 1, 5000).then((r) => {
    settled = true;
    return r;
  });
  await host.advance(4999);
  assert.equal(settled, false, "answered before the deadline");
  await host.advance(1);
  const result = await pending;
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.stuck, true);
  assert.equal(host.kernel.processes.get(SIM_PIDS.frozen)?.mask, 0, "nothing was replicated");
  await host.close();
});

Deno.test("mitosis: a reused pid is a new process to the kernel model", async () => {
  const host = new SimHost({ manualClock: true });
  await host.advance(BURST_FIRST_MS + 500);
  const first = byPid(await host.processes(), SIM_PIDS.burstA)!;
  assert.equal((await host.mitosis.setReplication(first, 0b11, 1000)).ok, true);
  assert.equal(host.kernel.processes.get(SIM_PIDS.burstA)?.mask, 0b11);
  await host.advance(2 * BURST_EVERY_MS);
  const reused = byPid(await host.processes(), SIM_PIDS.burstA)!;
  assert.notEqual(reused.startTime, first.startTime);
  assert.equal(
    host.kernel.processes.get(SIM_PIDS.burstA)?.mask,
    0,
    "replication died with the old process",
  );
  await host.close();
});

Deno.test("scenario: the heavy jobs come back every epoch as new processes", async () => {
  const host = new SimHost({ manualClock: true });
  await host.advance(EPOCH_MS + 20_000);
  const procs = await host.processes();
  assert.ok(byPid(procs, SIM_PIDS.stream + 100), "stream of epoch 1");
  assert.ok(byPid(procs, SIM_PIDS.gups + 100), "gups of epoch 1");
  assert.equal(byPid(procs, SIM_PIDS.stream), undefined);
  await host.close();
});

Deno.test("mitosis: on a scaled clock the stuck deadline runs in simulated time", async () => {
  const host = new SimHost({ timeScale: 1000 });
  const frozen = byPid(await host.processes(), SIM_PIDS.frozen)!;
  const started = host.clock.now();
  const result = await host.mitosis.setReplication(frozen, 1, 3000); // 3 real ms
  assert.equal(!result.ok && result.stuck, true);
  assert.ok(host.clock.now() - started >= 3000 * 0.9);
  await host.close();
});

Deno.test("processes: the background is excluded by the default names or the kernel-thread flag", async () => {
  const host = new SimHost({ manualClock: true });
  await host.advance(GUPS_START_MS + 5000); // gups runs; the first burst is over, the next not begun
  const procs = await host.processes();
  const managed = procs.filter((p) =>
    !p.kernelThread && !isExcludedName(p.name, DEFAULT_EXCLUDED_NAMES)
  );
  assert.deepEqual(
    managed.map((p) => p.name).sort(),
    ["compute", "flapper", "frozen", "gups", "idle", "nogain", "stream", "tiny"],
  );
  assert.ok(
    procs.some((p) => p.name === "waspd"),
    "the daemon sees itself, and excludes it by name",
  );
  await host.close();
});

Deno.test("scenario fit for the daemon: a naive threshold loop picks stream, gups, the flapper, tiny and nogain", async () => {
  // A deliberately naive loop (no hysteresis) standing in for the daemon: the
  // scenario must give it exactly the intended candidates.
  const host = new SimHost({ nodes: 4, manualClock: true, seed: 2 });
  const previous = new Map<string, { loads: number; walks: number }>();
  const everEnabled = new Set<string>();
  for (let second = 0; second < 40; second++) {
    const procs = (await host.processes()).filter((p) =>
      !p.kernelThread && !isExcludedName(p.name, DEFAULT_EXCLUDED_NAMES) && p.state !== "T"
    );
    const readings = host.counters.sample(procs);
    for (const p of procs) {
      const key = processKeyString(p);
      const now = readings.get(key);
      const before = previous.get(key);
      if (now?.loads == null || now.walks == null) continue;
      previous.set(key, { loads: now.loads, walks: now.walks });
      if (before === undefined) continue;
      const mar = now.loads - before.loads; // per 1 s tick
      const ratio = (now.walks - before.walks) / mar;
      const on = (host.kernel.processes.get(p.pid)?.mask ?? 0) !== 0;
      if (!on && mar > THR_MAR && ratio > THR_DTLB && p.name !== "burst") {
        assert.equal((await host.mitosis.setReplication(p, 1, 1000)).ok, true);
        everEnabled.add(p.name);
      }
    }
    await host.advance(1000);
  }
  // Without hysteresis the flapper's above-threshold windows are enough: that is
  // the trap it sets for the real policy; tiny and nogain pass the thresholds
  // too (their traps are their page tables and their gain). compute (low
  // dTLB), idle and frozen never.
  const picked = ["flapper", "gups", "nogain", "stream", "tiny"];
  assert.deepEqual([...everEnabled].sort(), picked);
  const state = await host.mitosis.read();
  assert.deepEqual(state.active.map((a) => a.name).sort(), picked);
  await host.close();
});
