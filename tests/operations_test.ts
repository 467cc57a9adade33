/**
 * MitosisOperations' inherit write (kept for the inherit policy to come):
 * enforcing, it writes and is restored to the value found at start;
 * advisory, it only says what it would have written.
 */
import assert from "node:assert/strict";
import { EventLog } from "../src/core/events.ts";
import { MitosisOperations } from "../src/daemon/operations.ts";
import { SimMitosisControl } from "../src/sim/mitosis_control.ts";
import { SimMitosisKernel } from "../src/sim/mitosis_kernel.ts";

function setup(enforcing: boolean) {
  const kernel = new SimMitosisKernel({ nodes: [0, 1], callerPid: 100, now: () => 0 });
  const control = new SimMitosisControl(kernel, () => Promise.resolve());
  const events = new EventLog(() => 0);
  const ops = new MitosisOperations(control, events, () => enforcing);
  return { kernel, control, events, ops };
}

Deno.test("setInherit writes inherit, and restore puts back the value found at start", async () => {
  const { kernel, control, events, ops } = setup(true);
  ops.remember(await control.read());
  assert.equal(kernel.inherit, 1);
  await ops.setInherit(-1);
  assert.equal(kernel.inherit, -1);
  assert.deepEqual(events.takeNew().map((e) => [e.kind, e.message]), [
    ["inherit", "inherit set to -1"],
  ]);
  assert.deepEqual(await ops.restore(), ["/proc/mitosis/inherit restored to 1"]);
  assert.equal(kernel.inherit, 1);
});

Deno.test("setInherit in advisory mode writes nothing and restores nothing", async () => {
  const { kernel, control, events, ops } = setup(false);
  ops.remember(await control.read());
  await ops.setInherit(-1);
  assert.equal(kernel.inherit, 1);
  assert.deepEqual(events.takeNew().map((e) => e.message), [
    "advisory: would write -1 to /proc/mitosis/inherit",
  ]);
  assert.deepEqual(await ops.restore(), []);
});
