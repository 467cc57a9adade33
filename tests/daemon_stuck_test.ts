/**
 * A prctl(100) that never returns (the real kernel blocks the caller
 * uninterruptibly until the target runs): the daemon marks the process
 * stuck, never retries it, keeps ticking, and still shuts down promptly.
 *
 * The simulated machine is wrapped so that its kernel blocks exactly like
 * LinuxMitosis's child process does: nothing until the deadline, then
 * `{ stuck: true }`. Everything else is the real daemon on the real SimHost.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../src/config.ts";
import type { ActionResult, ProcessKey } from "../src/core/types.ts";
import { Daemon, PRCTL_DEADLINE_MS } from "../src/daemon/daemon.ts";
import type { Host, MitosisControl } from "../src/host.ts";
import { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";

/** SimHost whose prctl(100) hangs for `pid` until the caller's deadline. */
function withHangingEnable(sim: SimHost, pid: number): { host: Host; calls: () => number } {
  let calls = 0;
  const mitosis: MitosisControl = {
    detect: () => sim.mitosis.detect(),
    read: () => sim.mitosis.read(),
    async setReplication(target: ProcessKey, mask: number, deadlineMs: number) {
      if (target.pid !== pid) return sim.mitosis.setReplication(target, mask, deadlineMs);
      calls++;
      await sim.clock.sleep(deadlineMs);
      return { ok: false, stuck: true, message: `prctl(100) gave no answer in ${deadlineMs} ms` };
    },
    setSteering: (t, s) => sim.mitosis.setSteering(t, s),
    getSteering: (t) => sim.mitosis.getSteering(t),
    write: (file, v): Promise<ActionResult> => sim.mitosis.write(file, v),
  };
  const host = Object.create(sim, { mitosis: { value: mitosis } }) as Host;
  return { host, calls: () => calls };
}

Deno.test("a call that never returns: stuck, never retried, ticks go on, exit is prompt", async () => {
  const sim = new SimHost({ nodes: 4, seed: 5, manualClock: true });
  const { host, calls } = withHangingEnable(sim, SIM_PIDS.stream);
  const daemon = await Daemon.open(
    host,
    { ...defaultConfig(), simNodes: 4, hysteresisMs: 2000, ptlIntervalMs: 60_000 },
    { selfPid: SIM_PIDS.waspd },
  );
  const statuses: string[] = [];
  for (let t = 0; t < 20; t++) {
    const snapshot = await daemon.tick();
    const stream = snapshot.processes.find((p) => p.pid === SIM_PIDS.stream);
    statuses.push(stream?.status ?? "gone");
    await sim.advance(1000);
  }
  assert.ok(statuses.includes("stuck"), statuses.join(" "));
  assert.deepEqual(daemon.stuckPids(), [SIM_PIDS.stream]);
  assert.equal(calls(), 1, "a stuck process is never called again");
  // Others were still served while it hung.
  assert.ok(
    sim.kernel.replicated().some((p) => p.pid === SIM_PIDS.gups || p.pid === SIM_PIDS.flapper),
  );

  const started = performance.now();
  const lines = await daemon.shutdown();
  assert.ok(performance.now() - started < PRCTL_DEADLINE_MS, "the undo waits for no stuck call");
  assert.ok(lines.some((l) => /left as is: pid \d+ \(stream\) is stuck/.test(l)), lines.join("\n"));
  assert.deepEqual(sim.kernel.replicated().map((p) => p.pid), []);
});
