/**
 * Crash-safe ownership in-process, on the simulated machine with its state
 * kept in a directory: the Actuator's calls are recorded before and after,
 * a "crash" (dropping everything without the undo) leaves the record and the
 * kernel state, and the next waspd's takeover adopts or drops each entry.
 */
import assert from "node:assert/strict";
import { inTempDir } from "./support/scratch.ts";
import { EventLog } from "../src/core/events.ts";
import type { ActionResult, ProcessKey } from "../src/core/types.ts";
import { Actuator } from "../src/daemon/actuator.ts";
import { simReplication } from "./support/replication.ts";
import { label } from "../src/daemon/managed.ts";
import { Ownership } from "../src/daemon/ownership.ts";
import { takeOverOwnership } from "../src/daemon/takeover.ts";
import { libc } from "../src/ffi/libc.ts";
import type { Host } from "../src/host.ts";
import { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";

// Opened before any test, so the resource sanitizer does not count it as a leak.
libc();

const DEADLINE_MS = 2000;

/** One waspd's worth of parts on a SimHost resumed from `dir` (its kernel calls through `wrap`). */
function waspdOn(dir: string, selfPid: number, wrap: (sim: SimHost) => Host = (sim) => sim) {
  const sim = new SimHost({ manualClock: true, stateDir: dir });
  const used = wrap(sim);
  const events = new EventLog(() => sim.clock.wallNow());
  const ownership = new Ownership(
    sim.ownership,
    selfPid,
    () => sim.clock.wallNow(),
    (kind, message, pid) => events.emit(kind, message, pid),
  );
  const actuator = new Actuator(used, events, DEADLINE_MS, ownership, simReplication());
  const takeOver = () =>
    takeOverOwnership({
      ownership,
      confirm: (key) => sim.confirm(key),
      replicated: (pid) => sim.kernel.replicated().some((p) => p.pid === pid),
      manageable: () => true,
      pinned: () => null,
      enforcing: true,
      disable: (t, reason) => actuator.disable(t, reason),
      report: (kind, message, pid) => events.emit(kind, message, pid),
      label,
    });
  return { sim, events, ownership, actuator, takeOver };
}

function ownedJson(dir: string): { owner_pid: number; entries: { pid: number; state: string }[] } {
  return JSON.parse(Deno.readTextFileSync(`${dir}/owned.json`));
}

Deno.test("recorded before the call and after it; a crash leaves it; the next waspd adopts", () =>
  inTempDir("waspd-owned-sim-", async (dir) => {
    // What the record says at the moment of the kernel call.
    const seenAtCall: string[] = [];
    const first = waspdOn(dir, 111, (sim) =>
      Object.create(sim, {
        mitosis: {
          value: {
            ...sim.mitosis,
            setReplication(target: ProcessKey, mask: number, deadlineMs: number) {
              seenAtCall.push(ownedJson(dir).entries.map((e) => `${e.pid}:${e.state}`).join());
              return sim.mitosis.setReplication(target, mask, deadlineMs);
            },
          },
        },
      }));
    await first.sim.advance(3000);
    const stream = await first.sim.process(SIM_PIDS.stream);
    assert.ok(stream);
    first.actuator.enable({ ...stream, name: stream.name }, "MAR high", null);
    await first.actuator.settle();
    assert.deepEqual(seenAtCall, [`${SIM_PIDS.stream}:enabling`]);
    assert.deepEqual(ownedJson(dir).entries.map((e) => `${e.pid}:${e.state}`), [
      `${SIM_PIDS.stream}:on`,
    ]);
    // Crash: nothing is undone, nothing closed. A new waspd on the same machine:
    const second = waspdOn(dir, 222);
    assert.deepEqual(second.sim.kernel.replicated().map((p) => p.pid), [SIM_PIDS.stream]);
    const verdicts = await second.takeOver();
    assert.deepEqual(verdicts.map((v) => v.action), ["adopt"]);
    assert.equal(ownedJson(dir).owner_pid, 222, "the record now names the new owner");
    assert.match(
      second.events.takeNew().map((e) => e.message).join("\n"),
      /ownership: adopted pid 2001 \(stream\) \(turned on by waspd pid 111/,
    );
    // Adopted means owned: its undo turns it off and clears the record.
    const lines = await second.actuator.undoAll();
    assert.deepEqual(lines, ["replication turned off for pid 2001 (stream)"]);
    assert.deepEqual(second.sim.kernel.replicated(), []);
    assert.throws(() => Deno.lstatSync(`${dir}/owned.json`), Deno.errors.NotFound);
    await second.sim.close();
  }));

Deno.test("a stuck enable stays on record as 'enabling'; the next waspd drops it if it never landed", () =>
  inTempDir("waspd-owned-sim-", async (dir) => {
    const first = waspdOn(dir, 111, (sim) =>
      Object.create(sim, {
        mitosis: {
          value: {
            ...sim.mitosis,
            setReplication: (): Promise<ActionResult> =>
              Promise.resolve({ ok: false, stuck: true, message: "no answer in 2000 ms" }),
          },
        },
      }));
    await first.sim.advance(3000);
    const stream = await first.sim.process(SIM_PIDS.stream);
    assert.ok(stream);
    first.actuator.enable({ ...stream, name: stream.name }, "MAR high", null);
    await first.actuator.settle();
    assert.deepEqual(ownedJson(dir).entries.map((e) => `${e.pid}:${e.state}`), [
      `${SIM_PIDS.stream}:enabling`,
    ]);
    const second = waspdOn(dir, 222);
    const verdicts = await second.takeOver();
    assert.deepEqual(verdicts.map((v) => `${v.action}: ${v.why}`), [
      "drop: its replication is already off",
    ]);
    assert.throws(() => Deno.lstatSync(`${dir}/owned.json`), Deno.errors.NotFound);
    await second.sim.close();
  }));
