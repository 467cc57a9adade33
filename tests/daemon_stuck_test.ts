/**
 * A prctl(100) that does not return in time (the real kernel blocks the
 * caller uninterruptibly until the target runs): the daemon marks the process
 * stuck, keeps ticking, tries it again with a growing pause once it runs, owns
 * (and undoes at exit) what a late-returning call turned on, and still shuts
 * down promptly.
 *
 * The simulated machine is wrapped so that its kernel blocks exactly like the
 * prctl helper does: nothing until the deadline, then `{ stuck: true }` with a
 * `late` answer that comes when the test lets the call finish. Everything else
 * is the real daemon on the real SimHost.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../src/options.ts";
import { type ActionResult, type ProcessKey, processKeyString } from "../src/core/types.ts";
import { RETRY_BASE_MS } from "../src/core/stuck.ts";
import { EventLog } from "../src/core/events.ts";
import { Actuator } from "../src/daemon/actuator.ts";
import { simReplication } from "./support/replication.ts";
import { Daemon, PRCTL_DEADLINE_MS } from "../src/daemon/daemon.ts";
import { Ownership } from "../src/daemon/ownership.ts";
import type { Host, MitosisControl } from "../src/host.ts";
import { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";
import { before } from "./support/poll.ts";

/** A hang guard, not a speed limit: far beyond anything the undo does without a stuck call. */
const HANG_GUARD_MS = 30_000;

interface Hanging {
  host: Host;
  /** Sim times (ms) of the calls made for the hanging pid. */
  calls: number[];
  /** Let every call given up on finish now, through the real kernel model, or with `answer`. */
  finish(answer?: ActionResult): Promise<void>;
  /** How many calls given up on have not been let finish yet. */
  unanswered(): number;
}

/**
 * SimHost whose prctl(100) enabling `pid` hangs until the caller's deadline,
 * for the first `hangs` calls (every call when omitted); later calls, and
 * every disable, go through.
 */
function withHangingCalls(sim: SimHost, pid: number, hangs = Infinity): Hanging {
  const calls: number[] = [];
  const waiting: ((answer?: ActionResult) => Promise<void>)[] = [];
  const mitosis: MitosisControl = {
    detect: () => sim.mitosis.detect(),
    read: () => sim.mitosis.read(),
    async setReplication(target: ProcessKey, mask: number, deadlineMs: number) {
      if (target.pid !== pid || mask === 0) {
        return sim.mitosis.setReplication(target, mask, deadlineMs);
      }
      calls.push(sim.clock.now());
      if (calls.length > hangs) return sim.mitosis.setReplication(target, mask, deadlineMs);
      let release!: (r: ActionResult) => void;
      const late = new Promise<ActionResult>((resolve) => release = resolve);
      waiting.push(async (answer) =>
        release(answer ?? await sim.mitosis.setReplication(target, mask, 60_000))
      );
      await sim.clock.sleep(deadlineMs);
      return {
        ok: false,
        stuck: true,
        message: `prctl(100) gave no answer in ${deadlineMs} ms`,
        late,
      };
    },
    setSteering: (t, s) => sim.mitosis.setSteering(t, s),
    getSteering: (t) => sim.mitosis.getSteering(t),
    write: (file, v): Promise<ActionResult> => sim.mitosis.write(file, v),
  };
  const host = Object.create(sim, { mitosis: { value: mitosis } }) as Host;
  return {
    host,
    calls,
    async finish(answer) {
      for (const done of waiting.splice(0)) await done(answer);
      // Let the daemon's reconcile (a read and a confirm) run.
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    },
    unanswered: () => waiting.length,
  };
}

async function started(host: Host) {
  return await Daemon.open(
    host,
    { ...defaultConfig(), simNodes: 4, hysteresisMs: 2000, ptlIntervalMs: 60_000 },
    { selfPid: SIM_PIDS.waspd },
  );
}

/** A daemon whose enable of `stream` went stuck (every such call hangs). */
async function stuckStream() {
  const sim = new SimHost({ nodes: 4, seed: 5, manualClock: true });
  const hanging = withHangingCalls(sim, SIM_PIDS.stream);
  const daemon = await started(hanging.host);
  await run(sim, daemon, 6);
  assert.deepEqual(daemon.stuckPids(), [SIM_PIDS.stream]);
  assert.equal(hanging.calls.length, 1);
  return { sim, hanging, daemon };
}

/** Shut down; `stream`'s replication must be among what was undone, and nothing left on. */
async function assertUndoneAtExit(sim: SimHost, daemon: Daemon): Promise<string[]> {
  const lines = await daemon.shutdown();
  assert.ok(lines.includes("replication turned off for pid 2001 (stream)"), lines.join("\n"));
  assert.deepEqual(sim.kernel.replicated().map((p) => p.pid), []);
  return lines;
}

async function run(sim: SimHost, daemon: Daemon, seconds: number): Promise<string[]> {
  const statuses: string[] = [];
  for (let t = 0; t < seconds; t++) {
    const snapshot = await daemon.tick();
    const stream = snapshot.processes.find((p) => p.pid === SIM_PIDS.stream);
    statuses.push(stream?.status ?? "gone");
    await sim.advance(1000);
  }
  return statuses;
}

Deno.test("a call that never returns: stuck, retried only after a growing pause, ticks go on, exit is prompt", async () => {
  const sim = new SimHost({ nodes: 4, seed: 5, manualClock: true });
  const { host, calls, unanswered } = withHangingCalls(sim, SIM_PIDS.stream);
  const daemon = await started(host);
  const statuses = await run(sim, daemon, 40);
  assert.ok(statuses.includes("stuck"), statuses.join(" "));
  assert.deepEqual(daemon.stuckPids(), [SIM_PIDS.stream]);
  // Tried again, but each time only after the pause since the previous overrun
  // (which came one deadline after its call), and the pause doubles.
  assert.ok(calls.length >= 2, `calls at ${calls.join(", ")}`);
  for (let i = 1; i < calls.length; i++) {
    const gap = calls[i]! - calls[i - 1]!;
    assert.ok(gap >= PRCTL_DEADLINE_MS + RETRY_BASE_MS * 2 ** (i - 1), `gap ${i}: ${gap} ms`);
  }
  // Others were still served while it hung.
  assert.ok(
    sim.kernel.replicated().some((p) => p.pid === SIM_PIDS.gups || p.pid === SIM_PIDS.flapper),
  );

  // Ordering, not speed: the undo is over while the stuck calls still have no
  // answer (they never get one here, so waiting for them would hang; the
  // guard turns that hang into a failure).
  const undone = await before(daemon.shutdown(), HANG_GUARD_MS);
  if (undone === "not yet") assert.fail("the undo waits for a stuck call");
  const lines = undone.value;
  assert.ok(unanswered() > 0, "the stuck calls were answered before the undo");
  assert.ok(lines.some((l) => /left as is: pid \d+ \(stream\) is stuck/.test(l)), lines.join("\n"));
  assert.deepEqual(sim.kernel.replicated().map((p) => p.pid), []);
});

Deno.test("stuck -> retried once the pause is over -> replicated, no longer stuck", async () => {
  const sim = new SimHost({ nodes: 4, seed: 5, manualClock: true });
  const { host, calls } = withHangingCalls(sim, SIM_PIDS.stream, 1);
  const daemon = await started(host);
  const statuses = await run(sim, daemon, 30);
  assert.equal(calls.length, 2, `calls at ${calls.join(", ")}`);
  assert.ok(statuses.includes("stuck"));
  assert.equal(statuses.at(-1), "active", statuses.join(" "));
  assert.deepEqual(daemon.stuckPids(), []);
  assert.ok(sim.kernel.replicated().some((p) => p.pid === SIM_PIDS.stream));
  await assertUndoneAtExit(sim, daemon);
});

Deno.test("a stuck enable that returns late: reconciled with /proc/mitosis/active, owned, undone at exit", async () => {
  const { sim, hanging, daemon } = await stuckStream();
  const logged: string[] = [];
  // The target runs again: the abandoned call completes and turns replication on.
  await hanging.finish();
  assert.ok(sim.kernel.replicated().some((p) => p.pid === SIM_PIDS.stream));
  const snapshot = await daemon.tick();
  for (const e of snapshot.events) logged.push(`${e.kind}: ${e.message}`);
  assert.ok(
    logged.some((l) =>
      /^enable: late enable of pid 2001 \(stream\): it returned 0; \/proc\/mitosis\/active lists it replicated: waspd owns it and turns it off on exit$/
        .test(l)
    ),
    logged.join("\n"),
  );
  assert.deepEqual(daemon.stuckPids(), [], "the call is over: no longer stuck");
  assert.equal(snapshot.processes.find((p) => p.pid === SIM_PIDS.stream)?.status, "active");
  await assertUndoneAtExit(sim, daemon);
});

Deno.test("at exit, a stuck enable the kernel shows completed is undone even before its answer", async () => {
  const { sim, daemon } = await stuckStream();
  // The kernel turned it on (the queued work ran), but no answer has reached waspd.
  await sim.mitosis.setReplication({ pid: SIM_PIDS.stream, startTime: 0 }, 1, 1000);
  const lines = await assertUndoneAtExit(sim, daemon);
  assert.ok(
    lines.includes("the stuck enable of pid 2001 (stream) completed: undoing it too"),
    lines.join("\n"),
  );
});

Deno.test("the ownership record keeps a stuck enable's intent and learns its late outcome", async () => {
  for (const lateOn of [true, false]) {
    const sim = new SimHost({ nodes: 4, seed: 5, manualClock: true });
    const hanging = withHangingCalls(sim, SIM_PIDS.stream);
    const events = new EventLog(() => sim.clock.wallNow());
    const ownership = new Ownership(sim.ownership, SIM_PIDS.waspd, () => 0, () => {});
    const actuator = new Actuator(
      hanging.host,
      events,
      PRCTL_DEADLINE_MS,
      ownership,
      simReplication(),
    );
    const info = await sim.process(SIM_PIDS.stream);
    assert.ok(info);
    const target = { pid: info.pid, startTime: info.startTime, name: info.name };
    actuator.enable(target, "test", null);
    await sim.whenSleeping();
    await sim.advance(PRCTL_DEADLINE_MS);
    await actuator.settle();
    assert.equal(actuator.stuck.size, 1);
    assert.deepEqual([...ownership.entries.values()].map((e) => e.state), ["enabling"]);
    // The call turns replication on at last, or fails without turning it on.
    await hanging.finish(
      lateOn ? undefined : { ok: false, stuck: false, errno: "EINVAL", message: "refused" },
    );
    assert.deepEqual(
      [...ownership.entries.values()].map((e) => e.state),
      lateOn ? ["on"] : [],
      `late ${lateOn ? "on" : "off"}`,
    );
    assert.equal(ownership.owns(processKeyString(target)), lateOn);
    assert.equal(actuator.stuck.size, 0);
  }
});
