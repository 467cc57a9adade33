/**
 * The undo's time bound holds through the prctl helper: the helper survives
 * the signals sent to waspd's process group, and a call given `withinMs`
 * (the undo's time left) waits no longer than that for a helper to get ready
 * or to begin, whatever the 30 s start-up timeout says.
 */
import assert from "node:assert/strict";
import { EventLog } from "../src/core/events.ts";
import type { ProcessKey } from "../src/core/types.ts";
import { Actuator } from "../src/daemon/actuator.ts";
import { simReplication } from "./support/replication.ts";
import { memoryOwnership } from "./support/ownership.ts";
import type { Host } from "../src/host.ts";
import { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";
import type { HelperLauncher } from "../src/sys/mitosis/prctl_spawn.ts";
import { PrctlClient } from "../src/sys/mitosis/prctl_client.ts";
import {
  encodeMessage,
  helperInvocation,
  parseRequest,
} from "../src/sys/mitosis/prctl_protocol.ts";
import { lines } from "../src/sys/stream_lines.ts";

/** A fake helper: "ready" after `readyMs`, "begin" `beginMs` after a request, "done" at once. */
function slowHelper(readyMs: number, beginMs: number): HelperLauncher {
  return () => {
    const queue: string[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    let exit!: () => void;
    const exited = new Promise<void>((resolve) => exit = resolve);
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => (timers.delete(t), fn()), ms);
      timers.add(t);
    };
    const push = (line: string) => {
      queue.push(line.trim());
      wake?.();
    };
    const end = () => {
      ended = true;
      for (const t of timers) clearTimeout(t);
      wake?.();
      exit();
    };
    later(readyMs, () => push(encodeMessage({ type: "ready", pid: 4000 })));
    async function* out(): AsyncGenerator<string> {
      while (true) {
        const line = queue.shift();
        if (line !== undefined) yield line;
        else if (ended) return;
        else await new Promise<void>((resolve) => wake = resolve);
      }
    }
    return {
      lines: out(),
      send(line) {
        const request = parseRequest(line.trim());
        if (typeof request === "string") throw new Error(request);
        later(beginMs, () => {
          push(encodeMessage({ type: "begin", id: request.id }));
          push(encodeMessage({ type: "done", id: request.id, rc: 0, errno: 0 }));
        });
        return Promise.resolve();
      },
      endInput: end,
      kill: end,
      exited,
      stderrTail: () => "",
    };
  };
}

Deno.test("a call given withinMs waits no longer than that for the helper to be ready", async () => {
  const client = new PrctlClient({ launch: slowHelper(600, 0), startupTimeoutMs: 30_000 });
  const result = await client.setReplication("undo 42", 0, 42, 2000, 100);
  assert.equal(!result.ok && !result.stuck && result.errno, "ETIMEDOUT");
  assert.match(!result.ok ? result.message : "", /did not start within 0\.1 s.*nothing was called/);
  assert.equal(await client.close(1000), 0);
});

Deno.test("a call given withinMs waits no longer than that for the helper to begin it", async () => {
  const client = new PrctlClient({ launch: slowHelper(0, 600), startupTimeoutMs: 30_000 });
  client.warmUp();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const result = await client.setReplication("undo 43", 0, 43, 2000, 150);
  assert.equal(!result.ok && !result.stuck && result.errno, "ETIMEDOUT");
  assert.match(!result.ok ? result.message : "", /did not begin the call within 0\.1\d* s/);
  assert.equal(await client.close(1000), 0);
});

Deno.test("without withinMs a slow start-up is waited for (the daemon's calls, the manual commands)", async () => {
  const client = new PrctlClient({ launch: slowHelper(300, 0), startupTimeoutMs: 30_000 });
  assert.deepEqual(await client.setReplication("enable 44", 1, 44, 2000), { ok: true, value: 0 });
  assert.equal(await client.close(1000), 0);
});

Deno.test("the real helper ignores SIGINT, SIGTERM and SIGHUP, and exits when its input ends", async () => {
  const { command, args } = helperInvocation(
    false,
    Deno.execPath(),
    new URL("../src/sys/mitosis/prctl_helper.ts", import.meta.url).href,
  );
  const child = new Deno.Command(command, { args, stdin: "piped", stdout: "piped", stderr: "null" })
    .spawn();
  const out = lines(child.stdout);
  const first = await out.next();
  assert.match(String(first.value), /"type":"ready"/);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) child.kill(signal);
  // Still there and serving: a request gets its answer (EINVAL on a stock kernel, or 0).
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(`{"id":1,"mask":0,"pid":${child.pid}}\n`),
  );
  const seen: string[] = [];
  for await (const line of out) {
    seen.push(line);
    if (line.includes('"id":1') && !line.includes('"begin"')) break;
  }
  assert.match(seen.join("\n"), /"type":"(done|failed)","id":1/);
  await writer.close();
  for await (const _ of out) { /* drain until it exits */ }
  const status = await child.status;
  assert.equal(status.signal, null, "not killed by the signals");
  assert.equal(status.code, 0);
});

/** An Actuator on `host` with a 2 s deadline, its Ownership in memory. */
function actuatorOn(host: Host): Actuator {
  return new Actuator(host, new EventLog(() => 0), 2000, memoryOwnership(), simReplication());
}

Deno.test("the undo hands each call what is left of its budget as withinMs", async () => {
  const sim = new SimHost({ manualClock: true });
  const within: (number | undefined)[] = [];
  const mitosis = Object.create(sim.mitosis, {
    setReplication: {
      value: (target: ProcessKey, mask: number, deadlineMs: number, withinMs?: number) => {
        if (mask === 0) within.push(withinMs);
        return sim.mitosis.setReplication(target, mask, deadlineMs);
      },
    },
  });
  const host = Object.create(sim, { mitosis: { value: mitosis } }) as Host;
  const actuator = actuatorOn(host);
  await sim.advance(3000);
  const stream = await sim.process(SIM_PIDS.stream);
  assert.ok(stream);
  actuator.enable({ ...stream, name: stream.name }, "MAR high", null);
  await actuator.settle();
  const lines = await actuator.undoAll(5000);
  assert.deepEqual(lines, [`replication turned off for pid ${SIM_PIDS.stream} (stream)`]);
  assert.equal(within.length, 1);
  const [given] = within;
  assert.ok(given !== undefined && given > 0 && given <= 5000, `withinMs ${given}`);
  await sim.close();
});

Deno.test("the undo turns off what waspd owns before it waits for an enable still under way", async () => {
  // The compute enable holds the undo's settle past its whole budget.
  const sim = new SimHost({ manualClock: true });
  await sim.advance(3000);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const mitosis = Object.create(sim.mitosis, {
    setReplication: {
      value: async (target: ProcessKey, mask: number, deadlineMs: number, withinMs?: number) => {
        // The compute enable is slow (a loaded kernel); every other call answers at once.
        if (mask !== 0 && target.pid === SIM_PIDS.compute) await held;
        return sim.mitosis.setReplication(target, mask, deadlineMs, withinMs);
      },
    },
  });
  const host = Object.create(sim, { mitosis: { value: mitosis } }) as Host;
  const actuator = actuatorOn(host);
  const stream = await sim.process(SIM_PIDS.stream);
  const compute = await sim.process(SIM_PIDS.compute);
  assert.ok(stream && compute);
  actuator.enable({ ...stream, name: stream.name }, "MAR high", null);
  await actuator.settle();
  actuator.enable({ ...compute, name: compute.name }, "MAR high", null); // stays under way
  const undo = actuator.undoAll(300);
  await sim.advance(400); // the budget runs out while the compute enable is still under way
  const lines = await undo;
  assert.ok(
    lines.includes(`replication turned off for pid ${SIM_PIDS.stream} (stream)`),
    lines.join("\n"),
  );
  assert.equal((await sim.mitosis.read())?.active.some((a) => a.pid === SIM_PIDS.stream), false);
  release();
  await actuator.settle();
  await sim.close();
});
