/**
 * The Daemon's own API on the simulated machine, manual clock: `open` gives
 * a started daemon (or closes the host when it cannot start), `run` paces
 * ticks by the update interval until stopped or aborted, `once` is --once,
 * and the undo runs once however often it is asked for.
 */
import assert from "node:assert/strict";
import type { Snapshot } from "../src/core/snapshot.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import type { Host } from "../src/host.ts";
import type { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";
import { replicated, simConfig, simHost, ticks, UPDATE_MS } from "./support/sim_daemon.ts";

const config = simConfig;

/** A started daemon on a fresh simulated machine, shut down after `use`. */
async function withDaemon(use: (daemon: Daemon, host: SimHost) => Promise<void>): Promise<void> {
  const host = simHost();
  const daemon = await Daemon.open(host, config, { selfPid: SIM_PIDS.waspd });
  try {
    await use(daemon, host);
  } finally {
    await daemon.shutdown();
  }
}

Deno.test("open: a started daemon, its mode announced in the first snapshot's events", () =>
  withDaemon(async (daemon) => {
    assert.equal(daemon.enforcing, true);
    const first = await daemon.tick();
    assert.equal(first.daemon?.tick, 1);
    assert.ok(first.events.some((e) => e.kind === "info" && /^enforcing/.test(e.message)));
  }));

Deno.test("open: when the machine cannot be read, the host is closed and the error thrown", async () => {
  const sim = simHost();
  let closed = 0;
  const host = Object.create(sim, {
    topology: { value: () => Promise.reject(new Error("no /sys")) },
    close: { value: () => (closed++, sim.close()) },
  }) as Host;
  await assert.rejects(Daemon.open(host, config), /no \/sys/);
  assert.equal(closed, 1);
});

Deno.test("run: one tick per update interval until stop(); the undo follows", async () => {
  const host = simHost();
  const daemon = await Daemon.open(host, config, { selfPid: SIM_PIDS.waspd });
  const snapshots: Snapshot[] = [];
  const running = daemon.run((s) => snapshots.push(s));
  for (let i = 0; i < 5; i++) {
    await host.whenSleeping();
    await host.advance(UPDATE_MS);
  }
  daemon.stop("test over");
  await running;
  assert.equal(daemon.stopReason, "test over");
  assert.ok(snapshots.length >= 5, `${snapshots.length} snapshots`);
  assert.deepEqual(snapshots.map((s) => s.daemon?.tick), snapshots.map((_, i) => i + 1));
  const times = snapshots.map((s) => Date.parse(s.time));
  for (let i = 1; i < times.length; i++) {
    assert.equal((times[i] ?? 0) - (times[i - 1] ?? 0), UPDATE_MS, `tick ${i + 1}`);
  }
  await daemon.shutdown();
  assert.deepEqual(host.kernel.replicated().map((p) => p.pid), []);
});

Deno.test("run: a signal aborted before the run stops the daemon with its reason, before any tick", () =>
  withDaemon(async (daemon) => {
    const stop = new AbortController();
    stop.abort("SIGTERM");
    const snapshots: Snapshot[] = [];
    await daemon.run((s) => snapshots.push(s), stop.signal);
    assert.equal(snapshots.length, 0);
    assert.equal(daemon.stopReason, "SIGTERM");
    assert.equal(daemon.stopSignal.aborted, true);
  }));

Deno.test("run: aborting the signal mid-run ends the loop in its sleep", () =>
  withDaemon(async (daemon, host) => {
    const stop = new AbortController();
    let ticks = 0;
    const running = daemon.run(() => ticks++, stop.signal);
    await host.whenSleeping();
    stop.abort("SIGINT");
    await running; // no advance: the abort, not the clock, ended the sleep
    assert.equal(ticks, 1);
    assert.equal(daemon.stopReason, "SIGINT");
  }));

Deno.test("once: two ticks an update interval apart, carrying the events of both", () =>
  withDaemon(async (daemon, host) => {
    const once = daemon.once();
    await host.whenSleeping();
    await host.advance(UPDATE_MS);
    const snapshot = await once;
    assert.equal(snapshot.daemon?.tick, 2);
    // The startup announcement was taken by the first tick and is still here.
    assert.ok(snapshot.events.some((e) => /^enforcing/.test(e.message)));
    // The first PTL measurement was waited for.
    assert.ok(snapshot.ptl !== null);
  }));

Deno.test("shutdown runs the undo once; `await using` is the same undo", async () => {
  const host = simHost();
  {
    await using daemon = await Daemon.open(host, config, { selfPid: SIM_PIDS.waspd });
    await ticks(daemon, host, 30, () => replicated(host, SIM_PIDS.stream));
    assert.ok(replicated(host, SIM_PIDS.stream), "waspd replicated stream");
    const [a, b] = await Promise.all([daemon.shutdown(), daemon.shutdown()]);
    assert.equal(a, b);
    assert.ok(a.some((l) => /replication turned off for pid \d+ \(stream\)/.test(l)), a.join("\n"));
  }
  assert.deepEqual(host.kernel.replicated().map((p) => p.pid), []);
});

Deno.test("`await using` alone undoes what the daemon turned on", async () => {
  const host = simHost();
  {
    await using daemon = await Daemon.open(host, config, { selfPid: SIM_PIDS.waspd });
    await ticks(daemon, host, 30, () => host.kernel.replicated().length > 0);
    assert.ok(host.kernel.replicated().length > 0, "something was replicated");
  }
  assert.deepEqual(host.kernel.replicated().map((p) => p.pid), []);
});

Deno.test("pin: kept in the host's pins; a process pinned off is never replicated", () =>
  withDaemon(async (daemon, host) => {
    const stream = (await host.process(SIM_PIDS.stream))!;
    const key = { pid: stream.pid, startTime: stream.startTime };
    const events = (await daemon.tick()).events.map((e) => e.message);
    daemon.act({ kind: "pin", pid: key.pid, start_time: key.startTime, state: "off" });
    await daemon.settle();
    for (let t = 0; t < 20; t++) {
      const snapshot = await daemon.tick();
      events.push(...snapshot.events.map((e) => e.message));
      assert.equal(snapshot.processes.find((p) => p.pid === stream.pid)?.pinned, "off");
      await host.advance(UPDATE_MS);
      await daemon.settle();
    }
    assert.equal((await host.pins.read()).pins.size, 1);
    assert.ok(events.includes(`pid ${stream.pid} (stream) pinned off`), events.join("\n"));
    assert.ok(!host.kernel.replicated().some((p) => p.pid === stream.pid));
  }));

Deno.test("open: the enforcing daemon prunes a gone process's pin at start, keeps a live one's", async () => {
  const host = simHost();
  const live = (await host.processes()).find((p) => p.pid !== SIM_PIDS.waspd)!;
  await host.pins.set({ pid: 999_999, startTime: 1 }, "on", 0);
  await host.pins.set(live, "off", 0);
  const daemon = await Daemon.open(host, config, { selfPid: SIM_PIDS.waspd });
  try {
    assert.equal(daemon.enforcing, true);
    const keys = [...(await host.pins.read()).pins.keys()];
    assert.deepEqual(keys, [`${live.pid}@${live.startTime}`]);
  } finally {
    await daemon.shutdown();
  }
});

Deno.test("open --once: even an enforcing daemon leaves the pins as they are", async () => {
  const host = simHost();
  await host.pins.set({ pid: 999_999, startTime: 1 }, "on", 0);
  const daemon = await Daemon.open(host, { ...config, once: true }, { selfPid: SIM_PIDS.waspd });
  try {
    assert.deepEqual([...(await host.pins.read()).pins.keys()], ["999999@1"]);
  } finally {
    await daemon.shutdown();
  }
});

Deno.test("a (toggleAuto): held, the policy only advises and pins still act; resumed, it acts", () =>
  withDaemon(async (daemon, host) => {
    const on = (pid: number) => replicated(host, pid);
    const idle = (await host.process(SIM_PIDS.idle))!;
    const events: string[] = [];
    const run = async (n: number) => void events.push(...await ticks(daemon, host, n));
    daemon.act({ kind: "toggleAuto" });
    daemon.act({ kind: "pin", pid: idle.pid, start_time: idle.startTime, state: "on" });
    await daemon.settle();
    await run(20);
    assert.ok(events.some((m) => /^automatic decisions held/.test(m)), events.join("\n"));
    assert.ok(events.some((m) => /\(stream\): would enable/.test(m)), events.join("\n"));
    assert.ok(!on(SIM_PIDS.stream), "held: the policy turned nothing on");
    assert.ok(on(idle.pid), "held: a pin still acts");
    daemon.act({ kind: "toggleAuto" });
    await run(20);
    assert.ok(events.includes("automatic decisions resumed"), events.join("\n"));
    assert.ok(on(SIM_PIDS.stream), "resumed: the policy acts again");
    assert.ok(on(idle.pid));
  }));

Deno.test("o (allOff): what the policy turned on goes off and stays off, a pin on stays; a resumes", () =>
  withDaemon(async (daemon, host) => {
    const on = (pid: number) => replicated(host, pid);
    const idle = (await host.process(SIM_PIDS.idle))!;
    const events: string[] = [];
    const run = async (n: number, done?: () => boolean) =>
      void events.push(...await ticks(daemon, host, n, done));
    daemon.act({ kind: "pin", pid: idle.pid, start_time: idle.startTime, state: "on" });
    await run(30, () => on(SIM_PIDS.stream) && on(idle.pid));
    assert.ok(on(SIM_PIDS.stream) && on(idle.pid), events.join("\n"));
    daemon.act({ kind: "allOff" });
    await run(20);
    // The policy turned on stream (and whatever else was hot); the pinned idle is left alone.
    const said = events.find((m) => m.startsWith("all off: "));
    assert.match(said ?? "", /^all off: turning replication off for [1-9]\d* process\(es\)/);
    assert.ok(
      events.includes(`replication off for pid ${SIM_PIDS.stream} (stream): all off by hand`),
    );
    assert.ok(!on(SIM_PIDS.stream), "off, and the held policy leaves it off");
    assert.ok(on(idle.pid), "a pin on still acts");
    daemon.act({ kind: "toggleAuto" });
    await run(20, () => on(SIM_PIDS.stream));
    assert.ok(on(SIM_PIDS.stream), "resumed: the policy turns it on again");
  }));
