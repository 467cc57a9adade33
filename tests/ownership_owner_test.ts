/**
 * The Ownership as the one owner of what waspd changed: what a dead waspd
 * left becomes this one's only when adopted or settled by its own call, and
 * a found inherit or mode value is on record before the write that changes
 * it, and this waspd's to put back only once it wrote it.
 */
import assert from "node:assert/strict";
import { memoryOwnedStore, type OwnedEntry } from "../src/core/ownership_record.ts";
import { Ownership } from "../src/daemon/ownership.ts";
import { ownedEntry, T0 } from "./support/ownership.ts";

function ownershipWorld() {
  const store = memoryOwnedStore();
  const ownership = new Ownership(store, 500, () => T0, () => {});
  // A function, not the field: asserting it null must not narrow later reads.
  const saved = () => store.record;
  return { store, saved, ownership };
}

const entry = (pid: number): OwnedEntry => ownedEntry(pid, "on");
const ok = { ok: true as const };

Deno.test("ownership: what a dead waspd left is waspd's only once adopted or settled by its own call", () => {
  const w = ownershipWorld();
  w.store.record = {
    ownerPid: 321,
    entries: new Map([["1@10", entry(1)], ["2@20", entry(2)], ["3@30", entry(3)]]),
  };
  assert.equal(w.ownership.takeOver()?.ownerPid, 321);
  assert.deepEqual(w.ownership.owned(), [], "on record, but nothing is undone at exit yet");
  const p = (pid: number) => ({ pid, startTime: pid * 10, name: `p${pid}` });
  w.ownership.adopted(p(1));
  // Kept (its state was unknown), then turned on by this waspd's policy.
  w.ownership.intend(p(2), true, "MAR high");
  w.ownership.settle(p(2), true, ok);
  assert.deepEqual(w.ownership.owned().map((t) => t.pid), [1, 2]);
  assert.ok(w.ownership.owns("1@10") && !w.ownership.owns("3@30"));
  assert.deepEqual([...w.ownership.entries.keys()], ["1@10", "2@20", "3@30"], "3 stays on record");
  w.ownership.forget(p(1));
  assert.deepEqual(w.ownership.owned().map((t) => t.pid), [2]);
});

Deno.test("ownership: a found value is on record before the write, waspd's to put back once written", () => {
  const w = ownershipWorld();
  w.ownership.changing("mode", -1);
  assert.equal(w.saved()?.modeFound, -1, "on record before the write");
  assert.equal(w.ownership.toPutBack("mode"), undefined, "not written yet");
  w.ownership.changed("mode", false);
  assert.equal(w.saved(), null, "the write failed: taken back");
  w.ownership.changing("mode", -1);
  w.ownership.changed("mode", true);
  w.ownership.changing("mode", 1); // a second toggle: the value found at start stays
  w.ownership.changed("mode", true);
  assert.equal(w.ownership.toPutBack("mode"), -1);
  w.ownership.putBack("mode");
  assert.equal(w.ownership.toPutBack("mode"), undefined);
  assert.equal(w.saved(), null, "put back: off the record");
});

Deno.test("ownership: a dead waspd's found value is not this one's to put back, unless it changes it too", () => {
  const w = ownershipWorld();
  w.store.record = { ownerPid: 321, entries: new Map(), modeFound: -1, inheritFound: 1 };
  w.ownership.takeOver();
  // Its takeover could not restore them: left on record for the next waspd.
  assert.equal(w.ownership.toPutBack("mode"), undefined);
  assert.equal(w.ownership.toPutBack("inherit"), undefined);
  // The operator toggles the mode: the value to put back is still the one first found.
  w.ownership.changing("mode", 1);
  w.ownership.changed("mode", true);
  assert.equal(w.ownership.toPutBack("mode"), -1);
  w.ownership.changing("inherit", 1);
  w.ownership.changed("inherit", false);
  assert.equal(w.saved()?.inheritFound, 1, "a failed write takes back only its own intent");
});
