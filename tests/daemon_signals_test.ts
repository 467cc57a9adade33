/**
 * The undo-on-exit path for real signals: waspd runs as a child process
 * (JSON lines), gets SIGTERM or SIGINT, undoes what it changed, says so on
 * stderr and exits 0. Against the simulated machine the undo has replication
 * to turn off; against this real (stock-kernel) host it runs in advisory mode
 * and must still exit cleanly.
 */
import assert from "node:assert/strict";
import { runUntil, runWaspd } from "./support/waspd.ts";

interface Snapshot {
  daemon: { tick: number; replicated: number };
  simulated: boolean;
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`simulated machine: ${signal} turns off the replication waspd turned on, exit 0`, async () => {
    const run = await runUntil<Snapshot>(
      ["--sim", "--json", "--time-scale", "50", "-u", "500", "-i", "5000", "-y", "1000"],
      (s) => s.daemon.replicated >= 1,
      signal,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.snapshots.every((s) => s.simulated === true));
    assert.ok(run.snapshots.some((s) => s.daemon.replicated >= 1), "something was replicated");
    assert.match(run.stderr, /replication turned off for pid \d+/);
  });
}

Deno.test("this host (stock kernel): SIGTERM stops the advisory daemon cleanly, exit 0", async () => {
  const run = await runUntil<Snapshot>(
    ["--json", "-u", "200", "-i", "60000"],
    (s) => s.daemon.tick >= 2,
    "SIGTERM",
  );
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.snapshots.length >= 2);
  assert.ok(run.snapshots.every((s) => s.simulated === false));
  // Advisory: nothing was changed, so nothing is undone.
  assert.doesNotMatch(run.stderr, /replication turned off/);
});

Deno.test("not a terminal and no --json: one line pointing at --json, exit 2", async () => {
  const out = await runWaspd([]);
  assert.equal(out.code, 2);
  assert.equal(out.stdout.length, 0, "no escape codes, no output at all");
  const err = out.stderr.trim();
  assert.equal(err.split("\n").length, 1);
  assert.match(err, /--json/);
});
