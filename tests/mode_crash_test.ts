/**
 * The Mitosis mode is crash-safe as inherit is: the value found is on the
 * ownership record before waspd first changes the mode (`m`), a waspd killed
 * before its exit leaves it for the next one, which restores it at takeover;
 * a clean exit restores it and clears it. The record's `mode_found` is
 * range-checked on read.
 */
import assert from "node:assert/strict";
import { EventLog } from "../src/core/events.ts";
import { decodeOwned, encodeOwned, memoryOwnedStore } from "../src/core/ownership_record.ts";
import { MitosisOperations } from "../src/daemon/operations.ts";
import { SimMitosisControl } from "../src/sim/mitosis_control.ts";
import { SimMitosisKernel } from "../src/sim/mitosis_kernel.ts";
import { settingsWaspd } from "./support/ownership.ts";

function waspd(
  control: SimMitosisControl,
  store: ReturnType<typeof memoryOwnedStore>,
  pid: number,
  enforcing = true,
) {
  return settingsWaspd(control, store, pid, {
    enforcing,
    free: true,
    deps: (ops) => ({ restoreMode: (found) => ops.restoreModeLeft(found) }),
  });
}

function machine() {
  const kernel = new SimMitosisKernel({ nodes: [0, 1], callerPid: 100, now: () => 0 });
  kernel.inherit = -1; // inherit left alone: only the mode is on record
  const control = new SimMitosisControl(kernel, () => Promise.resolve());
  return { kernel, control, store: memoryOwnedStore() };
}

Deno.test("owned.json: mode_found round trip; only -1, 0 or 1 are read", () => {
  for (const modeFound of [-1, 0, 1]) {
    const record = { ownerPid: 42, entries: new Map(), modeFound };
    const text = encodeOwned(record);
    assert.match(text, new RegExp(`"mode_found": ${modeFound}`));
    assert.deepEqual(decodeOwned(text), { ok: true, value: record });
  }
  assert.doesNotMatch(encodeOwned({ ownerPid: 42, entries: new Map() }), /mode_found/);
  for (const bad of ["2", "-2", "0.5", '"1"', "null", "true", "1e9", "[1]"]) {
    const text = `{"version":1,"owner_pid":1,"mode_found":${bad},"entries":[]}`;
    assert.deepEqual(
      decodeOwned(text),
      { ok: false, reason: "mode_found is not -1, 0 or 1" },
      text,
    );
  }
});

Deno.test("mode changed with m, waspd killed: the next enforcing waspd restores the mode found", async () => {
  const { kernel, control, store } = machine();
  const saved = () => store.record;

  const first = waspd(control, store, 111);
  first.ops.remember(await control.read());
  await first.takeOver();
  await first.ops.toggleMode(await control.read());
  assert.equal(kernel.mode, 1);
  assert.equal(saved()?.modeFound, -1, "the found value is on record while it is changed");
  await first.ops.toggleMode(await control.read());
  await first.ops.toggleMode(await control.read());
  assert.equal(kernel.mode, 1);
  assert.equal(saved()?.modeFound, -1, "the value found at start, not the one before each toggle");

  // SIGKILL: no restore. The next waspd reads 1 and could not know it was waspd's.
  const second = waspd(control, store, 222);
  second.ops.remember(await control.read());
  await second.takeOver();
  assert.equal(kernel.mode, -1, "restored at takeover");
  assert.deepEqual(second.reports, [
    "mode: ownership: /proc/mitosis/mode restored to -1 " +
    "(changed by waspd pid 111, which exited without its undo)",
  ]);
  assert.equal(saved(), null, "nothing left on record");

  // And it runs as usual from there: the restored value is the one found.
  await second.ops.toggleMode(await control.read());
  assert.equal(kernel.mode, 1);
  assert.equal(saved()?.modeFound, -1);
  assert.deepEqual(await second.ops.restore(), ["/proc/mitosis/mode restored to -1"]);
  assert.equal(kernel.mode, -1);
  assert.equal(saved(), null, "a clean exit leaves no record");
});

Deno.test("mode_found on record: an advisory waspd leaves the mode and the record", async () => {
  const { kernel, control, store } = machine();
  const first = waspd(control, store, 111);
  first.ops.remember(await control.read());
  await first.ops.toggleMode(await control.read());
  assert.equal(kernel.mode, 1);

  const advisory = waspd(control, store, 222, false);
  advisory.ownership.detach();
  await advisory.takeOver();
  assert.equal(kernel.mode, 1, "advisory mode writes nothing");
  assert.equal(store.record?.modeFound, -1, "left for the next enforcing waspd");
  assert.deepEqual(advisory.reports, []);
});

Deno.test("the write refused: the intent is taken back, nothing on record", async () => {
  const { kernel, control, store } = machine();
  kernel.mode = 0;
  const w = waspd(control, store, 111);
  // A control whose mode write fails (the file went away): the kernel keeps 0.
  const refusing = Object.create(control) as SimMitosisControl;
  // What the record holds at the moment of the write.
  const seen: (number | undefined)[] = [];
  refusing.write = () => {
    seen.push(store.record?.modeFound);
    return Promise.resolve({ ok: false, stuck: false, errno: "EIO", message: "EIO" });
  };
  const ops = new MitosisOperations(refusing, new EventLog(() => 0), true, w.ownership);
  ops.remember(await control.read());
  await ops.toggleMode(await control.read());
  assert.equal(kernel.mode, 0);
  assert.deepEqual(seen, [0], "on record before the write");
  assert.equal(store.record, null, "off it after the failure");
  assert.deepEqual(await ops.restore(), [], "nothing to restore");
});
