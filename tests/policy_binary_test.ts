/**
 * The real binary on the default scenario, `waspd --sim --json --time-scale
 * 30` until 10 simulated minutes have passed (about 20 s): the same outcome
 * as the manual-clock tests (policy_sim_test.ts), and every process row has
 * its page-table size.
 */
import assert from "node:assert/strict";
import type { Snapshot } from "../src/core/snapshot.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";
import { runUntil } from "./support/waspd.ts";

const TEN_MINUTES_MS = 600_000;

Deno.test("waspd --sim --json --time-scale 30: damped flapper, tiny never, nogain off and kept off", async () => {
  let startMs: number | null = null;
  const run = await runUntil<Snapshot>(
    ["--sim", "--json", "--time-scale", "30"],
    (s) => {
      const t = Date.parse(s.time);
      startMs ??= t;
      return t - startMs >= TEN_MINUTES_MS;
    },
    "SIGINT",
  );
  assert.equal(run.code, 0, run.stderr);
  const events = run.snapshots.flatMap((s) => s.events);
  const ok = (pid: number, kind: string) =>
    events.filter((e) => e.pid === pid && e.kind === kind && e.action?.result === "ok");
  const flapper = ok(SIM_PIDS.flapper, "enable").length;
  assert.ok(flapper >= 1 && flapper <= 3, `flapper enabled ${flapper} times`);
  assert.equal(ok(SIM_PIDS.tiny, "enable").length, 0);
  assert.equal(ok(SIM_PIDS.nogain, "enable").length, 1);
  const off = ok(SIM_PIDS.nogain, "disable");
  assert.equal(off.length, 1);
  assert.match(off[0]!.message, /no gain from replication/);
  for (const pid of [SIM_PIDS.stream, SIM_PIDS.gups]) assert.equal(ok(pid, "enable").length, 1);
  // Every row of every snapshot has its page-table size; the total is in the daemon's block.
  for (const s of run.snapshots) {
    for (const p of s.processes) {
      assert.ok(p.pte_kb !== null && p.pte_kb > 0, `${s.time} ${p.name}`);
    }
    assert.equal(typeof s.daemon?.replica_kb_total, "number");
  }
  assert.ok(run.snapshots.some((s) => (s.daemon?.replica_kb_total ?? 0) > 0));
});
