/**
 * The policy over 10 simulated minutes of the default scenario, with the
 * default settings: the flapper is damped, the steady memory-bound processes
 * are replicated as early as without the new rules, the tiny process never
 * is, and the process replication does not help is turned off and stays off.
 */
import assert from "node:assert/strict";
import { type Config, defaultConfig } from "../src/options.ts";
import type { EventJson, Snapshot } from "../src/core/snapshot.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";

const TEN_MINUTES_S = 600;

interface Run {
  snapshots: Snapshot[];
  events: EventJson[];
}

async function simulate(settings: Partial<Config>): Promise<Run> {
  const host = new SimHost({ nodes: 4, seed: 1, manualClock: true });
  const daemon = await Daemon.open(host, {
    ...defaultConfig(),
    simNodes: 4,
    // The PTL refresh is not under test: rarely, so 600 ticks stay quick.
    ptlIntervalMs: 600_000,
    ...settings,
  }, { selfPid: SIM_PIDS.waspd });
  const run: Run = { snapshots: [], events: [] };
  try {
    for (let t = 0; t < TEN_MINUTES_S; t++) {
      const snapshot = await daemon.tick();
      run.snapshots.push(snapshot);
      run.events.push(...snapshot.events);
      await host.advance(1000);
      await daemon.settle();
    }
  } finally {
    await daemon.shutdown();
  }
  return run;
}

const of = (run: Run, pid: number, kind: "enable" | "disable") =>
  run.events.filter((e) => e.pid === pid && e.kind === kind && e.action?.result === "ok");

/** The first enable of each steady memory-bound process (bursts by start), as times. */
function steadyEnables(run: Run): Map<string, string> {
  const firsts = new Map<string, string>();
  for (const e of run.events) {
    if (e.kind !== "enable" || e.action?.result !== "ok" || e.pid === null) continue;
    if (
      ![SIM_PIDS.stream, SIM_PIDS.gups, SIM_PIDS.burstA, SIM_PIDS.burstB].includes(e.pid as 2001)
    ) {
      continue;
    }
    // A burst pid is reused every 40 s: key by pid and the 40 s slot it started in.
    const slot = Math.floor(Date.parse(e.time) / 40_000);
    const key = `${e.pid}/${e.pid >= 3000 ? slot : 0}`;
    if (!firsts.has(key)) firsts.set(key, e.time);
  }
  return firsts;
}

Deno.test("10 simulated minutes of the default scenario", async (t) => {
  const withRules = await simulate({});
  // The same run without damping and without the minimum size: the policy as it was.
  const without = await simulate({ dampMaxMs: 0, minPteKb: 0 });
  await t.step(
    "the flapper is enabled at most 3 times in 10 minutes (undamped: dozens)",
    () => {
      const [run, plain] = [withRules, without];
      const damped = of(run, SIM_PIDS.flapper, "enable").length;
      const undamped = of(plain, SIM_PIDS.flapper, "enable").length;
      assert.ok(damped >= 1 && damped <= 3, `damped ${damped}`);
      assert.ok(undamped > 20, `undamped ${undamped}`);
      const watching = run.snapshots.flatMap((s) => s.processes)
        .filter((p) => p.pid === SIM_PIDS.flapper && p.damping?.damped === true);
      assert.ok(watching.length > 0, "the flapper's damping is in the snapshot");
      assert.ok(
        watching.some((p) => /re-enable held \d+ s: \d+ flips? in 30 min/.test(p.reason)),
        "and in its reason",
      );
    },
  );

  await t.step(
    "the steady memory-bound processes are enabled no later than without the new rules",
    () => {
      const [run, plain] = [withRules, without];
      const now = steadyEnables(run);
      const before = steadyEnables(plain);
      assert.ok(before.size >= 10, `stream, gups and the bursts: ${[...before.keys()]}`);
      assert.deepEqual(now, before);
    },
  );

  await t.step("the tiny process is never enabled, and its reason says why", () => {
    const [run, plain] = [withRules, without];
    assert.equal(of(run, SIM_PIDS.tiny, "enable").length, 0);
    assert.ok(of(plain, SIM_PIDS.tiny, "enable").length > 0, "without the minimum it would be");
    const last = run.snapshots.at(-1)!.processes.find((p) => p.pid === SIM_PIDS.tiny)!;
    assert.equal(last.status, "idle");
    assert.match(last.reason, /page tables 144 KiB < 512 KiB: too small to be worth replicating/);
  });

  await t.step("the process replication does not help is turned off and stays off", () => {
    const run = withRules;
    const enables = of(run, SIM_PIDS.nogain, "enable");
    const disables = of(run, SIM_PIDS.nogain, "disable");
    assert.equal(enables.length, 1);
    assert.equal(disables.length, 1);
    assert.match(disables[0]!.message, /no gain from replication: walk cycles\/load [\d.]+ before/);
    const last = run.snapshots.at(-1)!.processes.find((p) => p.pid === SIM_PIDS.nogain)!;
    assert.equal(last.replicated, false);
    assert.equal(last.damping?.no_gain, true);
    assert.ok(last.walk_cycles_before !== null && last.walk_cycles_before > 0);
    // gups gains: its walk cycles per load after the enable are below those before.
    const gups = run.snapshots.map((s) => s.processes.find((p) => p.pid === SIM_PIDS.gups))
      .findLast((p) => p?.walk_cycles_after !== null && p?.walk_cycles_after !== undefined)!;
    assert.ok(gups.walk_cycles_after! < gups.walk_cycles_before! * 0.7, JSON.stringify(gups));
  });

  await t.step(
    "every process has its page-table size; replica memory is pte x (nodes - 1)",
    () => {
      const run = withRules;
      for (const s of run.snapshots) {
        for (const p of s.processes) assert.ok(p.pte_kb !== null && p.pte_kb > 0, `${p.name}`);
        const active = s.processes.filter((p) => p.replicated === true);
        const expected = active.reduce((sum, p) => sum + p.pte_kb! * 3, 0);
        assert.equal(s.daemon?.replica_kb_total, expected);
        for (const p of active) assert.equal(p.replica_kb, p.pte_kb! * 3);
      }
      assert.ok(
        run.snapshots.some((s) => (s.daemon?.replica_kb_total ?? 0) > 49_000),
        "gups at least",
      );
    },
  );
});
