/**
 * Crash-safe ownership, the pure parts: the record's format, the verdict for
 * each entry a dead waspd left, and the Ownership the Actuator tells about
 * each call (intent before, outcome after) and asks what it owns.
 */
import assert from "node:assert/strict";
import {
  decodeOwned,
  encodeOwned,
  MAX_OWNED,
  memoryOwnedStore,
  type OwnedEntry,
  type OwnedFacts,
  reconcileOwned,
} from "../src/core/ownership_record.ts";
import type { ActionResult } from "../src/core/types.ts";
import { Ownership } from "../src/daemon/ownership.ts";
import { takeOverOwnership } from "../src/daemon/takeover.ts";
import { fileOwnedStore } from "../src/sys/ownership_file.ts";
import { processInfo } from "./support/process_info.ts";

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

function entry(pid: number, over: Partial<OwnedEntry> = {}): OwnedEntry {
  return {
    pid,
    startTime: pid * 10,
    name: `p${pid}`,
    state: "on",
    sinceMs: T0,
    reason: "MAR 5e7 > 1e7",
    ...over,
  };
}

Deno.test("owned.json: round trip; anything else is refused without quoting it", () => {
  const record = { ownerPid: 42, entries: new Map([["7@70", entry(7)], ["9@90", entry(9)]]) };
  const text = encodeOwned(record);
  assert.deepEqual(decodeOwned(text), { ok: true, value: record });
  for (
    const [bad, reason] of [
      ["root:x:0:0", "not JSON"],
      ["[]", "not a version 1 ownership record"],
      ['{"version":2,"owner_pid":1,"entries":[]}', "not a version 1 ownership record"],
      ['{"version":1,"entries":[]}', "no owner_pid"],
      ['{"version":1,"owner_pid":1,"entries":[{"pid":"secret"}]}', "entry 0 is malformed"],
    ] as const
  ) {
    assert.deepEqual(decodeOwned(bad), { ok: false, reason }, bad);
  }
  const many = JSON.stringify({
    version: 1,
    owner_pid: 1,
    entries: new Array(MAX_OWNED + 1).fill(0),
  });
  assert.deepEqual(decodeOwned(many), {
    ok: false,
    reason: `${MAX_OWNED + 1} entries, more than the ${MAX_OWNED} allowed`,
  });
});

Deno.test("reconcile: exited or off -> drop; unknown or advisory -> keep; policy says no -> disable; else adopt", () => {
  const base: OwnedFacts = {
    process: processInfo(1),
    replicated: true,
    manageable: true,
    pinned: null,
  };
  const cases: [Partial<OwnedFacts>, boolean, string][] = [
    [{ process: null }, true, "drop"],
    [{ replicated: false }, true, "drop"],
    [{ replicated: null }, true, "keep"],
    [{}, false, "keep"],
    [{ pinned: "off" }, true, "disable"],
    [{ manageable: false }, true, "disable"],
    [{ pinned: "on" }, true, "adopt"],
    [{ process: processInfo(1, { state: "T" }) }, true, "adopt"],
    [{}, true, "adopt"],
  ];
  for (const [facts, enforcing, action] of cases) {
    const [verdict] = reconcileOwned([entry(1)], () => ({ ...base, ...facts }), enforcing);
    assert.equal(verdict?.action, action, JSON.stringify({ facts, enforcing }));
    assert.ok((verdict?.why.length ?? 0) > 0);
  }
});

function ownershipWorld() {
  const store = memoryOwnedStore();
  const reports: string[] = [];
  const now = T0;
  const ownership = new Ownership(store, 500, () => now, (kind, message) => {
    reports.push(`${kind}: ${message}`);
  });
  // A function, not the field: asserting it null must not narrow later reads.
  const saved = () => store.record;
  return { store, saved, reports, ownership };
}

const target = { pid: 7, startTime: 70, name: "stream" };
const ok = { ok: true as const };
const failed = (stuck: boolean): ActionResult =>
  stuck ? { ok: false, stuck, message: "x" } : { ok: false, stuck, errno: "ESRCH", message: "x" };

Deno.test("ownership: the intent is on record before the call, the outcome after it", () => {
  const w = ownershipWorld();
  w.ownership.intend(target, true, "MAR high");
  assert.equal(w.saved()?.entries.get("7@70")?.state, "enabling", "written before the call");
  assert.equal(w.saved()?.ownerPid, 500);
  w.ownership.settle(target, true, ok);
  assert.equal(w.saved()?.entries.get("7@70")?.state, "on");
  assert.equal(w.saved()?.entries.get("7@70")?.reason, "MAR high");
  w.ownership.intend(target, false, "MAR low");
  assert.equal(w.saved()?.entries.get("7@70")?.state, "disabling");
  w.ownership.settle(target, false, failed(false));
  assert.equal(w.saved()?.entries.get("7@70")?.state, "on", "a failed disable leaves it on");
  w.ownership.intend(target, false, "MAR low");
  w.ownership.settle(target, false, ok);
  assert.equal(w.saved(), null, "nothing owned: no record at all");
  assert.deepEqual(w.reports, []);
});

Deno.test("ownership: a failed enable is dropped, a stuck one stays, an exited process is forgotten", () => {
  const w = ownershipWorld();
  w.ownership.intend(target, true, "r");
  w.ownership.settle(target, true, failed(false));
  assert.equal(w.saved(), null);
  w.ownership.intend(target, true, "r");
  w.ownership.settle(target, true, failed(true));
  assert.equal(w.saved()?.entries.get("7@70")?.state, "enabling", "may still complete");
  w.ownership.forget(target);
  assert.equal(w.saved(), null);
  // Turning off what waspd never turned on (pinned off by hand) records nothing.
  w.ownership.intend(target, false, "pinned off");
  w.ownership.settle(target, false, ok);
  assert.equal(w.saved(), null);
});

Deno.test("ownership: a record that cannot be written is reported once, and waspd goes on", () => {
  const w = ownershipWorld();
  w.store.save = () => {
    throw new Error("Read-only file system (os error 30)");
  };
  w.ownership.intend(target, true, "r");
  w.ownership.settle(target, true, ok);
  w.ownership.intend({ ...target, pid: 8 }, true, "r");
  assert.equal(w.reports.length, 1);
  assert.match(w.reports[0] ?? "", /^error: ownership record memory: cannot write it \(Read-only/);
  assert.equal(w.ownership.entries.size, 2, "still known in memory");
  assert.deepEqual(w.ownership.owned(), [target], "the settled one is undone at exit");
});

Deno.test("ownership: an unwritable record file is reported once per cause, not once per temp name", () => {
  // /proc takes no new files: each write fails on its own random temp name.
  const reports: string[] = [];
  const ownership = new Ownership(fileOwnedStore("/proc/owned.json"), 500, () => T0, (k, m) => {
    reports.push(`${k}: ${m}`);
  });
  for (let pid = 1; pid <= 30; pid++) {
    ownership.intend({ ...target, pid }, true, "r");
    ownership.settle({ ...target, pid }, true, ok);
  }
  assert.equal(reports.length, 1, reports.join("\n"));
  assert.match(reports[0] ?? "", /^error: ownership record \/proc\/owned\.json: cannot write it/);
  assert.ok(!/\.tmp/.test(reports[0] ?? ""), "no temp file name in the message");
});

Deno.test("ownership: a write failure is told again when its cause changes, or after a success", () => {
  const w = ownershipWorld();
  const save = w.store.save.bind(w.store);
  let failWith: string | null = "EROFS";
  let n = 0;
  w.store.save = (record) => {
    if (failWith === null) return save(record);
    throw Object.assign(new Error(`failure ${n++}`), { code: failWith });
  };
  const step = (pid: number) => w.ownership.intend({ ...target, pid }, true, "r");
  step(1);
  step(2);
  failWith = "ENOSPC";
  step(3);
  step(4);
  failWith = null;
  step(5);
  failWith = "ENOSPC";
  step(6);
  assert.deepEqual(w.reports.map((r) => /\(failure (\d+)\)/.exec(r)?.[1]), ["0", "2", "4"]);
});

Deno.test("takeover: adopts, turns off and forgets as the verdicts say, one event each", async () => {
  const w = ownershipWorld();
  w.store.record = {
    ownerPid: 321,
    entries: new Map([
      ["1@10", entry(1)],
      ["2@20", entry(2, { state: "enabling" })],
      ["3@30", entry(3)],
      ["4@40", entry(4)],
    ]),
  };
  const disabled: string[] = [];
  const live = new Map([[1, processInfo(1)], [2, processInfo(2)], [
    4,
    processInfo(4, { name: "excluded" }),
  ]]);
  const verdicts = await takeOverOwnership({
    ownership: w.ownership,
    confirm: (key) => Promise.resolve(live.get(key.pid) ?? null),
    replicated: (pid) => pid !== 2,
    manageable: (p) => p.name !== "excluded",
    pinned: () => null,
    enforcing: true,
    disable: (t, reason) => void disabled.push(`${t.pid}: ${reason}`),
    report: (kind, message) => void w.reports.push(`${kind}: ${message}`),
    label: (t) => `pid ${t.pid} (${t.name})`,
  });
  assert.deepEqual(verdicts.map((v) => `${v.entry.pid} ${v.action}`), [
    "1 adopt",
    "2 drop",
    "3 drop",
    "4 disable",
  ]);
  assert.deepEqual(w.ownership.owned(), [{ pid: 1, startTime: 10, name: "p1" }]);
  assert.equal(disabled.length, 1);
  assert.match(disabled[0] ?? "", /^4: turned on by waspd pid 321, which exited without its undo/);
  assert.equal(w.reports.length, 4);
  assert.match(w.reports[0] ?? "", /^info: ownership: adopted pid 1 \(p1\)/);
  assert.match(w.reports[1] ?? "", /ownership: forgot pid 2 \(p2\).*already off/);
  assert.match(w.reports[2] ?? "", /ownership: forgot pid 3 \(p3\).*exited/);
  assert.match(w.reports[3] ?? "", /ownership: turning off pid 4 \(excluded\)/);
  // The record now names this waspd and what it still owns (4 until its disable lands).
  assert.equal(w.saved()?.ownerPid, 500);
  assert.deepEqual([...(w.saved()?.entries.keys() ?? [])], ["1@10", "4@40"]);
});

Deno.test("takeover: no record, nothing to do", async () => {
  const w = ownershipWorld();
  const verdicts = await takeOverOwnership({
    ownership: w.ownership,
    confirm: () => Promise.reject(new Error("not called")),
    replicated: () => null,
    manageable: () => true,
    pinned: () => null,
    enforcing: true,
    disable: () => {},
    report: (kind, message) => void w.reports.push(`${kind}: ${message}`),
    label: (t) => `${t.pid}`,
  });
  assert.deepEqual(verdicts, []);
  assert.deepEqual(w.reports, []);
});
