/**
 * The replication mask on the simulated machine, daemon and kernel model
 * together: with a memory-only node, replication goes on with the nodes that
 * have CPUs only, the snapshot shows that mask, and steering never names the
 * memory-only node; with a single node with CPUs, nothing is asked of the
 * kernel and the refusal is said once.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../src/options.ts";
import type { EventJson, Snapshot } from "../src/core/snapshot.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { SimHost } from "../src/sim/host.ts";
import { defaultScenario, SIM_PIDS } from "../src/sim/workloads.ts";

const UPDATE_MS = 1000;

async function simulate(
  nodes: number,
  memoryOnlyNodes: number[],
  seconds: number,
  congested: number | null = null,
) {
  const scenario = defaultScenario({ seed: 3 });
  const host = new SimHost({ nodes, seed: 3, manualClock: true, scenario, memoryOnlyNodes });
  host.prober.setCongested(congested);
  const daemon = await Daemon.open(host, {
    ...defaultConfig(),
    simNodes: nodes,
    hysteresisMs: 3000,
    updateIntervalMs: UPDATE_MS,
    ptlIntervalMs: 5000,
  }, { selfPid: SIM_PIDS.waspd });
  const snapshots: Snapshot[] = [];
  const events: EventJson[] = [];
  try {
    for (let t = 0; t < seconds; t++) {
      const snapshot = await daemon.tick();
      snapshots.push(snapshot);
      events.push(...snapshot.events);
      await host.advance(UPDATE_MS);
      await daemon.settle();
    }
    // Copied: the undo at shutdown turns these very objects off.
    const replicated = host.kernel.replicated().map((p) => ({ pid: p.pid, mask: p.mask }));
    return { host, snapshots, events, replicated };
  } finally {
    events.push(...(await daemon.shutdown()).map((message) => ({ message }) as EventJson));
  }
}

Deno.test("a memory-only node: replication on nodes 0-2 only, shown as mask 7, never steered to", async () => {
  // Node 2's memory is slow: its socket sibling 3 would be the fastest, but holds no replica.
  const run = await simulate(4, [3], 40, 2);
  const messages = run.events.map((e) => e.message);
  assert.ok(messages.includes("replication mask 0x7 (nodes 0, 1, 2; node 3 left out: no CPUs)"));
  const stream = run.replicated.find((p) => p.pid === SIM_PIDS.stream);
  assert.ok(stream, "stream was replicated");
  assert.equal(stream.mask, 0b0111, "the kernel got the mask of the nodes with CPUs");
  assert.ok(run.replicated.every((p) => p.mask === 0b0111));
  assert.ok(
    run.events.some((e) =>
      e.kind === "enable" && e.pid === SIM_PIDS.stream && /, mask 0x7: /.test(e.message)
    ),
  );

  const last = run.snapshots.at(-1)!;
  assert.equal(last.daemon?.replication_mask, 7);
  assert.equal(last.daemon?.replication_refused, null);
  const row = last.processes.find((p) => p.pid === SIM_PIDS.stream);
  assert.deepEqual(row?.replica_nodes, [0, 1, 2]);
  assert.equal(row?.replica_mask, 7);
  assert.deepEqual(last.ptl?.cols, [0, 1, 2, 3], "the memory-only node is measured");
  assert.deepEqual(last.ptl?.rows, [0, 1, 2]);

  // Steering names only replicas; the kernel refused none of it.
  for (const s of run.snapshots) {
    for (const v of s.steering?.array ?? []) assert.ok(v >= -1 && v <= 2, `steered to ${v}`);
  }
  assert.ok(run.events.some((e) => e.kind === "steer" && e.pid === SIM_PIDS.stream));
  assert.deepEqual(run.events.filter((e) => e.kind === "error"), []);
});

Deno.test("one node with CPUs: nothing asked of the kernel, the refusal said once", async () => {
  const run = await simulate(2, [1], 30);
  assert.deepEqual(run.replicated, [], "nothing replicated");
  const reason = "replication needs 2 or more nodes with CPUs (only node 0 has CPUs; " +
    "memory-only: node 1): a replica where no CPU runs is never walked";
  const startup = run.events.find((e) => e.message.startsWith("replication refused: "));
  assert.deepEqual(
    { message: startup?.message, severity: startup?.severity },
    { message: `replication refused: ${reason}`, severity: "warning" },
  );
  const skipped = run.events.filter((e) => e.action?.kind === "enable");
  assert.equal(skipped.length, 1, JSON.stringify(skipped));
  assert.equal(skipped[0]?.action?.result, "skipped");
  assert.match(skipped[0]?.message ?? "", new RegExp(`^enable pid \\d+ \\(\\w+\\) skipped: `));
  assert.ok(skipped[0]?.message.endsWith(reason));
  const last = run.snapshots.at(-1)!;
  assert.equal(last.daemon?.replication_mask, null);
  assert.equal(last.daemon?.replication_refused, reason);
});
