/**
 * One waspd owns the ownership record at a time: an enforcing daemon claims
 * its state directory (flock on waspd.lock), a second enforcing one refuses
 * to start, and advisory mode or --once never adopt, disable or rewrite the
 * record. Also: a call given up on before it began (it carries `late`) stays
 * on record; adopted entries are marked "on".
 */
import assert from "node:assert/strict";
import { encodeOwned, memoryOwnedStore, type OwnedRecord } from "../src/core/ownership_record.ts";
import { Ownership } from "../src/daemon/ownership.ts";
import { type TakeoverDeps, takeOverOwnership } from "../src/daemon/takeover.ts";
import { type Config, defaultConfig } from "../src/options.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { libc } from "../src/ffi/libc.ts";
import { SimHost } from "../src/sim/host.ts";
import { fileOwnedStore, OWNED_FILE_NAME } from "../src/sys/ownership_file.ts";
import { ownedEntry as entry, T0, takeoverDeps } from "./support/ownership.ts";
import { inTempDir } from "./support/scratch.ts";

// The lock is taken through libc: loaded once for the whole file (not a leak of one test).
libc();

function world(dir: string, selfPid: number) {
  const reports: string[] = [];
  const ownership = new Ownership(
    fileOwnedStore(`${dir}/${OWNED_FILE_NAME}`),
    selfPid,
    () => T0,
    (kind, message) => void reports.push(`${kind}: ${message}`),
  );
  const deps = (over: Partial<TakeoverDeps>) => takeoverDeps(ownership, reports, over);
  /** The pids this waspd owns (adopted or turned on), undone at its exit. */
  const adopted = () => ownership.owned().map((t) => t.pid);
  return { ownership, reports, adopted, deps };
}

function writeRecord(dir: string, record: OwnedRecord): string {
  const text = encodeOwned(record);
  Deno.writeTextFileSync(`${dir}/${OWNED_FILE_NAME}`, text);
  return text;
}

const readRecord = (dir: string) => Deno.readTextFileSync(`${dir}/${OWNED_FILE_NAME}`);

Deno.test("a second enforcing waspd on the same state directory refuses to start, in one line", async () => {
  await inTempDir("waspd-claim-", async (dir) => {
    const first = world(dir, 111);
    assert.deepEqual(await takeOverOwnership(first.deps({})), []);
    first.ownership.intend({ pid: 7, startTime: 70, name: "p7" }, true, "MAR high");
    first.ownership.settle({ pid: 7, startTime: 70, name: "p7" }, true, { ok: true });
    const recorded = readRecord(dir);
    const second = world(dir, 222);
    await assert.rejects(
      () => takeOverOwnership(second.deps({})),
      /^RecordClaimed: another waspd \(pid \d+\) is enforcing with this state directory .*: stop it first/,
    );
    assert.deepEqual(second.adopted(), [], "nothing of the running waspd's was taken over");
    assert.equal(readRecord(dir), recorded, "its record is untouched");
    // Once the first is gone (its lock released, as exit does), the next one takes over.
    first.ownership.release();
    const third = world(dir, 333);
    const verdicts = await takeOverOwnership(third.deps({}));
    assert.deepEqual(verdicts.map((v) => v.action), ["adopt"]);
    third.ownership.release();
  });
});

Deno.test("advisory mode and --once next to a running waspd: nothing adopted, the record untouched", async () => {
  await inTempDir("waspd-claim-", async (dir) => {
    const service = world(dir, 111);
    await takeOverOwnership(service.deps({}));
    service.ownership.intend({ pid: 7, startTime: 70, name: "p7" }, true, "MAR high");
    service.ownership.settle({ pid: 7, startTime: 70, name: "p7" }, true, { ok: true });
    const recorded = readRecord(dir);
    for (const over of [{ enforcing: false }, { claims: false }]) {
      const other = world(dir, 222);
      assert.deepEqual(await takeOverOwnership(other.deps(over)), []);
      assert.deepEqual(other.adopted(), []);
      assert.match(other.reports.join("\n"), /ownership: another waspd .*is enforcing.*left to it/);
      // Its own calls (a --once tick) never reach the record either.
      other.ownership.intend({ pid: 8, startTime: 80, name: "p8" }, true, "MAR high");
      assert.equal(readRecord(dir), recorded);
    }
    service.ownership.release();
  });
});

Deno.test("advisory mode never rewrites a dead waspd's record", async () => {
  await inTempDir("waspd-claim-", async (dir) => {
    const text = writeRecord(dir, {
      ownerPid: 4194303,
      entries: new Map([["7@70", entry(7, "on")], ["8@80", entry(8, "on")]]),
    });
    const advisory = world(dir, 222);
    const verdicts = await takeOverOwnership(
      advisory.deps({ enforcing: false, replicated: (pid) => pid === 7 }),
    );
    assert.deepEqual(verdicts.map((v) => v.action), ["keep", "drop"]);
    assert.deepEqual(advisory.adopted(), [], "kept, not owned: its undo leaves it on");
    assert.equal(readRecord(dir), text, "left for the next enforcing waspd, as it was");
  });
});

Deno.test("adopted entries are marked on in the record", async () => {
  await inTempDir("waspd-claim-", async (dir) => {
    writeRecord(dir, { ownerPid: 4194303, entries: new Map([["7@70", entry(7, "enabling")]]) });
    const w = world(dir, 222);
    assert.deepEqual((await takeOverOwnership(w.deps({}))).map((v) => v.action), ["adopt"]);
    assert.equal(w.ownership.entries.get("7@70")?.state, "on");
    assert.deepEqual(w.adopted(), [7], "owned: undone at its exit");
    assert.match(readRecord(dir), /"state": "on"/);
    w.ownership.release();
  });
});

Deno.test("a call given up on before it began (it carries late) keeps its intent on record", async () => {
  await inTempDir("waspd-claim-", (dir) => {
    const w = world(dir, 222);
    const target = { pid: 7, startTime: 70, name: "p7" };
    w.ownership.intend(target, true, "MAR high");
    const late = Promise.resolve(null);
    w.ownership.settle(target, true, {
      ok: false,
      stuck: false,
      errno: "ETIMEDOUT",
      message: "the prctl helper did not begin the call within 30 s",
      late,
    });
    assert.equal(w.ownership.entries.get("7@70")?.state, "enabling", "may still complete");
    assert.match(readRecord(dir), /"state": "enabling"/);
    // Its late answer settles it, as the stuck calls' reconcile says.
    w.ownership.settle(target, true, { ok: true });
    assert.equal(w.ownership.entries.get("7@70")?.state, "on");
  });
});

/** An enforcing daemon on a simulated machine whose state directory is a fresh one, `dir`. */
function withFirstDaemon(
  use: (first: Daemon, dir: string, config: Config) => Promise<void>,
): Promise<void> {
  return inTempDir("waspd-claim-", async (dir) => {
    const config = defaultConfig();
    await using first = await Daemon.open(
      new SimHost({ manualClock: true, stateDir: dir }),
      config,
    );
    await use(first, dir, config);
  });
}

Deno.test("Daemon.open: a second enforcing daemon on one state directory refuses to start; --once opens beside it", () =>
  withFirstDaemon(async (first, dir, config) => {
    assert.equal(first.enforcing, true);
    const second = new SimHost({ manualClock: true, stateDir: dir });
    await assert.rejects(Daemon.open(second, config), /another waspd \(pid \d+\) is enforcing/);
    // --once next to it opens, and leaves the record to it.
    const once = await Daemon.open(new SimHost({ manualClock: true, stateDir: dir }), {
      ...config,
      once: true,
    });
    assert.match(
      once.events.takeNew().map((e) => e.message).join("\n"),
      /ownership: another waspd .* left to it/,
    );
    await once.shutdown();
  }));

Deno.test("once its lock is released, the Ownership writes nothing: a late answer cannot overwrite a successor's record", () => {
  const store = memoryOwnedStore();
  const ownership = new Ownership(store, 7000, () => T0, () => {});
  const target = { pid: 4100, startTime: 9, name: "stream" };
  ownership.intend(target, true, "hot");
  assert.equal(store.record?.entries.size, 1);
  ownership.release();
  ownership.settle(target, true, { ok: true, value: 0 });
  ownership.forget(target);
  assert.equal([...store.record!.entries.values()][0]?.state, "enabling");
});

Deno.test("Daemon.open: a refused second daemon never says it enforces", () =>
  withFirstDaemon(async (first, dir, config) => {
    const said: string[] = [];
    const second = new SimHost({ manualClock: true, stateDir: dir });
    await assert.rejects(
      Daemon.open(second, config, { eventSink: (_line, event) => void said.push(event.message) }),
      /another waspd \(pid \d+\) is enforcing/,
    );
    assert.ok(first.enforcing);
    assert.deepEqual(said.filter((m) => /enforcing/.test(m)), [], said.join("\n"));
  }));
