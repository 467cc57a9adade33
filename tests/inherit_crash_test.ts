/**
 * inherit is crash-safe: the value found is on the ownership record while
 * waspd has inherit off, and a waspd killed before its exit leaves it for the
 * next one, which restores it at takeover (against the kernel model: 0 reads
 * back -1, so the next waspd could not tell by reading).
 */
import assert from "node:assert/strict";
import { memoryOwnedStore } from "../src/core/ownership_record.ts";
import { SimMitosisControl } from "../src/sim/mitosis_control.ts";
import { SimMitosisKernel } from "../src/sim/mitosis_kernel.ts";
import { settingsWaspd } from "./support/ownership.ts";

function waspd(
  control: SimMitosisControl,
  store: ReturnType<typeof memoryOwnedStore>,
  pid: number,
) {
  return settingsWaspd(control, store, pid, {
    deps: (ops) => ({ restoreInherit: (found) => ops.restoreLeft(found) }),
  });
}

Deno.test("inherit found on, waspd killed with it off: the next waspd restores it", async () => {
  const kernel = new SimMitosisKernel({ nodes: [0, 1], callerPid: 100, now: () => 0 });
  kernel.inherit = 1;
  const control = new SimMitosisControl(kernel, () => Promise.resolve());
  const store = memoryOwnedStore();
  // A function, not the field: asserting it null must not narrow later reads.
  const saved = () => store.record;

  // In the order Daemon.open keeps: read the machine, take over, then inherit off.
  const first = waspd(control, store, 111);
  first.ops.remember(await control.read());
  await first.takeOver();
  await first.ops.inheritOff(null);
  assert.equal(kernel.inherit, -1);
  assert.equal(saved()?.inheritFound, 1, "the found value is on record while it is off");
  // SIGKILL: no restore. The next waspd reads -1 and could not know.
  const second = waspd(control, store, 222);
  second.ops.remember(await control.read()); // reads -1: the found value comes from the record
  await second.takeOver();
  assert.equal(kernel.inherit, 1, "restored at takeover");
  assert.match(second.reports.join("\n"), /inherit restored to 1 \(written 0 by waspd pid 111/);
  assert.equal(saved(), null, "nothing left on record");
  // And it runs as usual from there: off while enforcing, 1 back at its exit.
  await second.ops.inheritOff(null);
  assert.equal(kernel.inherit, -1);
  assert.equal(saved()?.inheritFound, 1);
  assert.deepEqual(await second.ops.restore(), ["/proc/mitosis/inherit restored to 1"]);
  assert.equal(kernel.inherit, 1);
  assert.equal(saved(), null, "a clean exit leaves no record");
});

Deno.test("inherit found off: nothing written, nothing on record", async () => {
  const kernel = new SimMitosisKernel({ nodes: [0, 1], callerPid: 100, now: () => 0 });
  kernel.inherit = -1;
  const control = new SimMitosisControl(kernel, () => Promise.resolve());
  const store = memoryOwnedStore();
  const w = waspd(control, store, 111);
  await w.takeOver();
  w.ops.remember(await control.read());
  await w.ops.inheritOff(null);
  assert.equal(store.record, null);
  assert.equal(kernel.inherit, -1);
});
