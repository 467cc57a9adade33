/**
 * A duplicate stop signal never skips the undo; a
 * deliberate second one (a second or more later) forces the exit; the undo
 * stays bounded. Pure checks of the verdict, then the real process against
 * a simulated kernel whose prctl(100) takes 1.5 s, so the undo is long
 * enough for the second signal to land inside it every time.
 */
import assert from "node:assert/strict";
import { DUPLICATE_SIGNAL_MS, judgeSignal } from "../src/daemon/signals.ts";
import { Actuator } from "../src/daemon/actuator.ts";
import { simReplication } from "./support/replication.ts";
import { EventLog } from "../src/core/events.ts";
import { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";
import { memoryOwnership } from "./support/ownership.ts";
import { jsonLines, startWaspd } from "./support/waspd.ts";

Deno.test("row 9: the first signal stops; one within a second is the same request; later forces", () => {
  assert.equal(judgeSignal(null, 5000), "stop");
  assert.equal(judgeSignal(5000, 5000), "duplicate");
  assert.equal(judgeSignal(5000, 5000 + DUPLICATE_SIGNAL_MS - 1), "duplicate");
  assert.equal(judgeSignal(5000, 5000 + DUPLICATE_SIGNAL_MS), "force");
  // A hangup is the terminal going away, never "exit now": the undo finishes.
  assert.equal(judgeSignal(5000, 5000 + 10 * DUPLICATE_SIGNAL_MS, "SIGHUP"), "duplicate");
  assert.equal(judgeSignal(null, 5000, "SIGHUP"), "stop");
  assert.equal(judgeSignal(5000, 5000 + DUPLICATE_SIGNAL_MS, "SIGINT"), "force");
  assert.equal(judgeSignal(5000, 60_000), "force");
});

interface Outcome {
  code: number;
  stderr: string;
  replicatedBefore: number;
}

/**
 * Run waspd on the simulated machine until something is replicated, send
 * SIGTERM, then SIGTERM again `secondAfterMs` later. Bounded by a timeout.
 */
async function twoSignals(secondAfterMs: number): Promise<Outcome> {
  const child = startWaspd([
    "--sim",
    "--json",
    "--time-scale",
    "1",
    "-u",
    "200",
    "-y",
    "0",
    "-i",
    "600000",
    "--sim-prctl-ms",
    "1500",
  ]);
  const stderr = new Response(child.stderr).text();
  let replicatedBefore = 0;
  for await (const snapshot of jsonLines<{ daemon: { replicated: number } }>(child.stdout)) {
    if (replicatedBefore === 0 && snapshot.daemon.replicated >= 1) {
      replicatedBefore = snapshot.daemon.replicated;
      child.kill("SIGTERM");
      setTimeout(() => {
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone: the undo was quicker than the second signal
        }
      }, secondAfterMs);
    }
  }
  const status = await child.status;
  return { code: status.code, stderr: await stderr, replicatedBefore };
}

Deno.test("row 9: a second SIGTERM 300 ms after the first (timeout's pair) does not skip the undo", async () => {
  const r = await twoSignals(300);
  assert.ok(r.replicatedBefore >= 1);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /exiting now/);
  assert.match(r.stderr, /replication turned off for pid \d+/);
});

Deno.test("row 9: a deliberate second SIGTERM 1.2 s later exits at once, code 143", async () => {
  const r = await twoSignals(1200);
  assert.ok(r.replicatedBefore >= 1);
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.stderr, /second SIGTERM: exiting now/);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
});

Deno.test("row 9: the undo stays within its budget however slow prctl is", async () => {
  // prctl takes 1.5 s of simulated time; a manual clock moves only when told.
  const host = new SimHost({ nodes: 2, manualClock: true, prctlMs: 1500 });
  const ownership = memoryOwnership();
  const actuator = new Actuator(host, new EventLog(() => 0), 2000, ownership, simReplication());
  for (const pid of [SIM_PIDS.stream, SIM_PIDS.compute, SIM_PIDS.idle]) {
    const info = await host.process(pid);
    if (!info) continue;
    // Turned on by this waspd, as far as its Ownership knows.
    ownership.intend(info, true, "MAR high");
    ownership.settle(info, true, { ok: true });
  }
  assert.equal(ownership.owned().length, 3);
  const undo = actuator.undoAll(2000);
  // Let simulated time run until the undo is over; it must end by 2 s plus a call.
  let elapsed = 0;
  let done = false;
  undo.finally(() => done = true);
  while (!done && elapsed < 10_000) {
    await host.advance(100);
    elapsed += 100;
  }
  const lines = await undo;
  assert.ok(elapsed <= 2000 + 1500 + 200, `undo took ${elapsed} ms of simulated time`);
  assert.equal(lines.length, 3);
  assert.ok(lines.some((l) => /ran out of time/.test(l)), lines.join("\n"));
  await host.close();
});
