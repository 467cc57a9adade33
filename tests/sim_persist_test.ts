/**
 * The simulated machine outlives waspd when given a state file (`--sim
 * --state-dir`): the clock and the kernel model's replication resume where
 * they were, as a real machine's do when its daemon dies.
 */
import assert from "node:assert/strict";
import { inTempDir } from "./support/scratch.ts";
import { libc } from "../src/ffi/libc.ts";
import { defaultConfig } from "../src/options.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { SimHost } from "../src/sim/host.ts";
import { decodeSim, encodeSim, SIM_STATE_FILE_NAME } from "../src/sim/persist.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";

// Opened before any test, so the resource sanitizer does not count it as a leak.
libc();

/** A simulated machine on a manual clock that keeps its state in `stateDir`. */
const machineIn = (stateDir: string) => new SimHost({ manualClock: true, stateDir });

Deno.test("a SimHost with a state file resumes its clock and replication", () =>
  inTempDir("waspd-simstate-", async (stateDir) => {
    const first = machineIn(stateDir);
    await first.advance(4_000);
    const stream = await first.process(SIM_PIDS.stream);
    assert.ok(stream);
    const result = await first.mitosis.setReplication(stream, 1, 1000);
    assert.equal(result.ok, true);
    // Saved right after the call: no close(), as after a SIGKILL.
    const second = machineIn(stateDir);
    assert.equal(second.stateWarning, null);
    assert.equal(second.clock.now(), 4_000);
    assert.deepEqual(second.kernel.replicated().map((p) => p.pid), [SIM_PIDS.stream]);
    const state = await second.mitosis.read();
    assert.deepEqual(state.active.map((a) => a.pid), [SIM_PIDS.stream]);
    // Turned off through the resumed machine: saved again.
    assert.equal((await second.mitosis.setReplication(stream, 0, 1000)).ok, true);
    const third = machineIn(stateDir);
    assert.deepEqual(third.kernel.replicated(), []);
    for (const host of [first, second, third]) await host.close();
  }));

Deno.test("after a SIGKILL the clock resumes no earlier than the process table was seen: an exited process stays gone", () =>
  inTempDir("waspd-simstate-", async (stateDir) => {
    const first = machineIn(stateDir);
    await first.advance(6_000);
    const burst = await first.process(SIM_PIDS.burstA);
    assert.ok(burst, "the first burst runs at 6 s");
    // Replication on: the machine is saved at 6 s.
    assert.equal((await first.mitosis.setReplication(burst, 1, 1000)).ok, true);
    await first.advance(9_000);
    const seen = await first.processes();
    assert.ok(!seen.some((p) => p.pid === SIM_PIDS.burstA), "exited by 15 s");
    // No close(): as after a SIGKILL.
    const second = machineIn(stateDir);
    assert.ok(second.clock.now() >= 15_000, `resumed at ${second.clock.now()} ms`);
    assert.equal(await second.confirm(burst), null, "the exited burst does not come back");
    assert.deepEqual(second.kernel.replicated(), []);
    await first.close();
    await second.close();
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

Deno.test("a call given up on is saved again when its late answer comes in", () =>
  inTempDir("waspd-simstate-", async (stateDir) => {
    const host = machineIn(stateDir);
    const frozen = await host.process(SIM_PIDS.frozen);
    assert.ok(frozen && frozen.state === "T");
    const call = host.mitosis.setReplication(frozen, 1, 1000);
    await host.whenSleeping();
    await host.advance(1000);
    const result = await call;
    assert.ok(!result.ok && result.stuck && result.late !== undefined, "given up on");
    const before = machineIn(stateDir);
    assert.deepEqual(before.kernel.replicated(), [], "not on while its target is stopped");
    // The debugger lets go: the blocked call completes, and the machine is saved then.
    host.scenario.find((w) => w.pid === SIM_PIDS.frozen)!.state = "S";
    assert.deepEqual(host.kernel.replicated().map((p) => p.pid), [SIM_PIDS.frozen]);
    assert.equal((await result.late)?.ok, true);
    const after = machineIn(stateDir);
    assert.deepEqual(after.kernel.replicated().map((p) => p.pid), [SIM_PIDS.frozen]);
    for (const h of [host, before, after]) await h.close();
  }));

Deno.test("a save that fails is a warning once (until a save works again), and the daemon logs it", () =>
  inTempDir("waspd-simstate-", async (dir) => {
    const stateDir = `${dir}/state`;
    await Deno.mkdir(stateDir);
    // A file where the directory was: no save can get through.
    const breakDir = async () => {
      await Deno.remove(stateDir, { recursive: true });
      await Deno.writeTextFile(stateDir, "not a directory");
    };
    const mendDir = async () => {
      await Deno.remove(stateDir);
      await Deno.mkdir(stateDir);
    };
    const host = machineIn(stateDir);
    assert.equal(host.stateWarning, null);
    await breakDir();
    assert.equal((await host.mitosis.write("mode", 1)).ok, true, "the kernel call itself works");
    await host.mitosis.write("mode", -1);
    const warnings = host.takeWarnings();
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0]!, /^simulated state: cannot write .*sim-kernel\.json: /);
    assert.deepEqual(host.takeWarnings(), [], "told once");
    await mendDir();
    await host.mitosis.write("mode", 1);
    assert.deepEqual(host.takeWarnings(), []);
    // Failing again after a good save is news: the daemon's next tick logs it.
    await breakDir();
    await host.mitosis.write("mode", -1);
    const daemon = await Daemon.open(host, { ...defaultConfig(), simNodes: 4 }, {
      selfPid: SIM_PIDS.waspd,
    });
    try {
      const events = (await daemon.tick()).events;
      assert.ok(
        events.some((e) => e.kind === "error" && /cannot write .*sim-kernel\.json/.test(e.message)),
        JSON.stringify(events),
      );
    } finally {
      await daemon.shutdown();
    }
  }));
