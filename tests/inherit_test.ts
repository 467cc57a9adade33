/**
 * inherit: off while waspd enforces, the found value back at exit, untouched
 * with --keep-inherit; checked against the kernel model (0 reads back -1), and
 * with a fork to show what it is for: a replicated parent's child is not
 * replicated behind the policy's back.
 */
import assert from "node:assert/strict";
import { EventLog } from "../src/core/events.ts";
import { inheritIsOff, planInherit } from "../src/core/inherit.ts";
import { MitosisOperations } from "../src/daemon/operations.ts";
import { SimMitosisControl } from "../src/sim/mitosis_control.ts";
import { SimMitosisKernel } from "../src/sim/mitosis_kernel.ts";
import { memoryOwnership } from "./support/ownership.ts";

function machine(inherit: 1 | -1) {
  const kernel = new SimMitosisKernel({ nodes: [0, 1, 2, 3], callerPid: 100, now: () => 0 });
  kernel.inherit = inherit;
  kernel.addProcess({ pid: 200, name: "parent" });
  const control = new SimMitosisControl(kernel, () => Promise.resolve());
  const events = new EventLog(() => 0);
  const ops = new MitosisOperations(control, events, true, memoryOwnership());
  return { kernel, control, events, ops };
}

Deno.test("plan: off only when found on and not kept; restore what was found", () => {
  assert.deepEqual([planInherit(1, null).write, planInherit(1, null).restore], [0, 1]);
  for (
    const [found, keep] of [
      [1, "--keep-inherit"],
      [1, "--once"],
      [-1, null],
      [0, null],
      [null, null],
    ] as const
  ) {
    const plan = planInherit(found, keep);
    assert.deepEqual([plan.write, plan.restore], [null, null], `${found} ${keep}`);
  }
  assert.match(planInherit(1, "--keep-inherit").why, /left as found \(--keep-inherit\)/);
  assert.deepEqual([-1, 0, 1, null].map(inheritIsOff), [true, true, false, false]);
});

Deno.test("enforcing: inherit reads -1 while waspd runs, children are not replicated, 1 comes back", async () => {
  const { kernel, control, events, ops } = machine(1);
  ops.remember(await control.read());
  await ops.inheritOff(null);
  // The kernel took the 0 and reads back -1 (the fixture inherit-after-write-0).
  assert.equal((await control.read()).inherit, -1);
  assert.ok(inheritIsOff((await control.read()).inherit));
  assert.deepEqual(await control.setReplication({ pid: 200, startTime: 0 }, 1, 1000), {
    ok: true,
    value: 0,
  });
  kernel.forkProcess(200, { pid: 201 });
  assert.deepEqual(kernel.replicated().map((p) => p.pid), [200], "the child was not replicated");
  assert.deepEqual(await ops.restore(), ["/proc/mitosis/inherit restored to 1"]);
  assert.equal((await control.read()).inherit, 1);
  kernel.forkProcess(200, { pid: 202 });
  assert.deepEqual(kernel.replicated().map((p) => p.pid), [200, 202], "inherit works again");
  assert.ok(events.takeNew().some((e) => e.kind === "inherit" && /turned off/.test(e.message)));
});

Deno.test("--keep-inherit: the file is never written, children inherit as before", async () => {
  const { kernel, control, events, ops } = machine(1);
  ops.remember(await control.read());
  await ops.inheritOff("--keep-inherit");
  assert.equal((await control.read()).inherit, 1);
  await control.setReplication({ pid: 200, startTime: 0 }, 1, 1000);
  kernel.forkProcess(200, { pid: 201 });
  assert.deepEqual(kernel.replicated().map((p) => p.pid), [200, 201]);
  assert.deepEqual(await ops.restore(), []);
  assert.equal((await control.read()).inherit, 1);
  assert.ok(events.takeNew().some((e) => /left as found \(--keep-inherit\)/.test(e.message)));
});

Deno.test("found off: left alone and not written at exit", async () => {
  const { control, ops } = machine(-1);
  ops.remember(await control.read());
  await ops.inheritOff(null);
  assert.equal((await control.read()).inherit, -1);
  assert.deepEqual(await ops.restore(), []);
  assert.equal((await control.read()).inherit, -1);
});
