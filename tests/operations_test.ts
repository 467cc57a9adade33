/**
 * MitosisOperations' inherit write (the inherit policy, core/inherit.ts):
 * enforcing, it writes and is restored to the value found at start;
 * advisory, it only says what it would have written.
 */
import assert from "node:assert/strict";
import { EventLog } from "../src/core/events.ts";
import { MitosisOperations } from "../src/daemon/operations.ts";
import { SimMitosisControl } from "../src/sim/mitosis_control.ts";
import { SimMitosisKernel } from "../src/sim/mitosis_kernel.ts";
import { memoryOwnership } from "./support/ownership.ts";

function setup(enforcing: boolean) {
  const kernel = new SimMitosisKernel({ nodes: [0, 1], callerPid: 100, now: () => 0 });
  const control = new SimMitosisControl(kernel, () => Promise.resolve());
  const events = new EventLog(() => 0);
  const ops = new MitosisOperations(control, events, enforcing, memoryOwnership());
  return { kernel, control, events, ops };
}

Deno.test("inheritOff writes inherit, and restore puts back the value found at start", async () => {
  const { kernel, control, events, ops } = setup(true);
  ops.remember(await control.read());
  assert.equal(kernel.inherit, 1);
  await ops.inheritOff(null);
  assert.equal(kernel.inherit, -1);
  assert.deepEqual(events.takeNew().map((e) => [e.kind, e.message]), [
    [
      "inherit",
      "inherit turned off while enforcing (children of replicated processes are not " +
      "replicated behind the policy's back); 1 is restored on exit",
    ],
  ]);
  assert.deepEqual(await ops.restore(), ["/proc/mitosis/inherit restored to 1"]);
  assert.equal(kernel.inherit, 1);
});

Deno.test("inheritOff in advisory mode writes nothing and restores nothing", async () => {
  const { kernel, control, events, ops } = setup(false);
  ops.remember(await control.read());
  await ops.inheritOff(null);
  assert.equal(kernel.inherit, 1);
  assert.deepEqual(events.takeNew().map((e) => e.message), [
    "advisory: would write 0 to /proc/mitosis/inherit",
  ]);
  assert.deepEqual(await ops.restore(), []);
});

Deno.test("pages waspd added to the page-table cache are given back on exit, to the level found", async () => {
  const { kernel, control, ops } = setup(true);
  await control.write("cache", 7); // someone else's pages, there before waspd
  ops.remember(await control.read());
  await ops.populateCache(50);
  assert.deepEqual((await control.read()).cache.map((r) => r.cached), [50, 50]);
  assert.deepEqual(await ops.restore(), [
    "/proc/mitosis/cache drained and topped back up to the 7 pages per node found",
  ]);
  assert.deepEqual((await control.read()).cache.map((r) => r.cached), [7, 7]);
  assert.equal(kernel.inherit, 1);
});

Deno.test("a cache waspd only drained (d) is left drained; one it never touched is not written", async () => {
  const { control, ops } = setup(true);
  await control.write("cache", 5);
  ops.remember(await control.read());
  await ops.cacheDrain();
  assert.deepEqual(await ops.restore(), []);
  assert.deepEqual((await control.read()).cache.map((r) => r.cached), [0, 0]);
});

Deno.test("advisory: -c writes nothing, so nothing is given back", async () => {
  const { control, ops } = setup(false);
  ops.remember(await control.read());
  await ops.populateCache(50);
  assert.deepEqual(await ops.restore(), []);
  assert.deepEqual((await control.read()).cache.map((r) => r.cached), [0, 0]);
});
