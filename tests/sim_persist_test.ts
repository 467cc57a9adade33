/**
 * The simulated machine outlives waspd when given a state file (`--sim
 * --state-dir`): the clock and the kernel model's replication resume where
 * they were, as a real machine's do when its daemon dies.
 */
import assert from "node:assert/strict";
import { inTempDir } from "./support/scratch.ts";
import { libc } from "../src/ffi/libc.ts";
import { SimHost } from "../src/sim/host.ts";
import { decodeSim, encodeSim, SIM_STATE_FILE_NAME } from "../src/sim/persist.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";

// Opened before any test, so the resource sanitizer does not count it as a leak.
libc();

Deno.test("a SimHost with a state file resumes its clock and replication", () =>
  inTempDir("waspd-simstate-", async (dir) => {
    const stateDir = dir;
    const first = new SimHost({ manualClock: true, stateDir });
    await first.advance(4_000);
    const stream = await first.process(SIM_PIDS.stream);
    assert.ok(stream);
    const result = await first.mitosis.setReplication(stream, 1, 1000);
    assert.equal(result.ok, true);
    // Saved right after the call: no close(), as after a SIGKILL.
    const second = new SimHost({ manualClock: true, stateDir });
    assert.equal(second.stateWarning, null);
    assert.equal(second.clock.now(), 4_000);
    assert.deepEqual(second.kernel.replicated().map((p) => p.pid), [SIM_PIDS.stream]);
    const state = await second.mitosis.read();
    assert.deepEqual(state.active.map((a) => a.pid), [SIM_PIDS.stream]);
    // Turned off through the resumed machine: saved again.
    assert.equal((await second.mitosis.setReplication(stream, 0, 1000)).ok, true);
    const third = new SimHost({ manualClock: true, stateDir });
    assert.deepEqual(third.kernel.replicated(), []);
    for (const host of [first, second, third]) await host.close();
  }));

Deno.test("another machine's state (seed) is ignored with a warning; a bad file is set aside", () =>
  inTempDir("waspd-simstate-", async (dir) => {
    const stateFile = `${dir}/${SIM_STATE_FILE_NAME}`;
    const stateDir = dir;
    await new SimHost({ manualClock: true, stateDir, seed: 1 }).close();
    const other = new SimHost({ manualClock: true, stateDir, seed: 2 });
    assert.match(other.stateWarning ?? "", /another machine's \(seed 1, 4 nodes\)/);
    assert.equal(other.clock.now(), 0);
    await other.close();
    Deno.writeTextFileSync(stateFile, "secret garbage");
    const fresh = new SimHost({ manualClock: true, stateDir, seed: 2 });
    assert.match(fresh.stateWarning ?? "", /not JSON; moved aside to .*\.bad-/);
    assert.doesNotMatch(fresh.stateWarning ?? "", /secret/);
    await fresh.close();
  }));

Deno.test("the state file format round-trips and refuses anything else", () => {
  const saved = {
    seed: 1,
    nodes: 4,
    nowMs: 1234.5,
    mode: -1,
    inherit: 1,
    processes: [{
      pid: 2001,
      startTime: 360100,
      mask: 15,
      steering: [-1, -1, -1, -1, -1, -1, -1, -1],
      cacheOnly: false,
      enabledAtMs: 1000,
    }],
  };
  assert.deepEqual(decodeSim(encodeSim(saved)), { ok: true, value: saved });
  assert.deepEqual(decodeSim('{"version":1}'), {
    ok: false,
    reason: "not a simulated machine's state",
  });
});
