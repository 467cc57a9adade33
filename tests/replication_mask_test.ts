/**
 * The replication mask (pure): the nodes with CPUs, from real /sys fixtures
 * and synthetic topologies; refused where fewer than 2 nodes have CPUs, never
 * the 1 of "all online nodes"; and what the prctl helper takes of it.
 */
import assert from "node:assert/strict";
import {
  describeMask,
  maskOfNodes,
  replicaNodes,
  type ReplicationMask,
  replicationMask,
} from "../src/core/replication_mask.ts";
import type { Topology } from "../src/core/types.ts";
import { simTopology } from "../src/sim/topology.ts";
import { readTopology } from "../src/sys/topology.ts";
import { parseRequest } from "../src/sys/mitosis/prctl_protocol.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const fixture = (sys: string) => readTopology(FIXTURES + sys, FIXTURES + "proc-skylake");

function accepted(m: ReplicationMask): Extract<ReplicationMask, { ok: true }> {
  assert.ok(m.ok, JSON.stringify(m));
  return m;
}

/** A topology whose nodes have these ids; those in `memoryOnly` without CPUs. */
function nodes(ids: number[], memoryOnly: number[] = []): Topology {
  const base = simTopology(1);
  return {
    ...base,
    nodes: ids.map((id) => ({
      id,
      cpus: memoryOnly.includes(id) ? [] : [id * 2, id * 2 + 1],
      memTotalKb: 1024,
      memFreeKb: 512,
      distances: ids.map((other) => (other === id ? 10 : 20)),
    })),
  };
}

Deno.test("fixtures: the nodes with CPUs, a memory-only node left out", async () => {
  const memonly = replicationMask(await fixture("sys-memonly"));
  assert.deepEqual(memonly, {
    ok: true,
    mask: 0b011,
    nodes: [0, 1],
    memoryOnly: [2],
    beyondMask: [],
  });
  assert.equal(describeMask(accepted(memonly)), "mask 0x3 (nodes 0, 1; node 2 left out: no CPUs)");
  const four = replicationMask(await fixture("sys-2socket-4node"));
  assert.deepEqual(four, {
    ok: true,
    mask: 0xf,
    nodes: [0, 1, 2, 3],
    memoryOnly: [],
    beyondMask: [],
  });
  assert.equal(describeMask(accepted(four)), "mask 0xf (nodes 0, 1, 2, 3)");
  const eight = replicationMask(await fixture("sys-8node"));
  assert.equal(eight.ok && eight.mask, 0xff);
});

Deno.test("fewer than 2 nodes with CPUs: refused with the reason, never a one-node mask", () => {
  const one = replicationMask(nodes([0]));
  assert.deepEqual(one, {
    ok: false,
    reason: "replication needs 2 or more nodes with CPUs (only node 0 has CPUs): " +
      "a replica where no CPU runs is never walked",
  });
  // Node 0 and a CXL expander: the mask would be 1, which the kernel reads as "all online nodes".
  const cxl = replicationMask(nodes([0, 1], [1]));
  assert.equal(cxl.ok, false);
  assert.match(!cxl.ok ? cxl.reason : "", /only node 0 has CPUs; memory-only: node 1\)/);
  const none = replicationMask(nodes([]));
  assert.match(!none.ok ? none.reason : "", /\(no node with CPUs\)/);
  // Node 9 cannot be named: the 6.4 kernel reads bits 0..7 only.
  const far = replicationMask(nodes([0, 9]));
  assert.match(
    !far.ok ? far.reason : "",
    /only node 0 has CPUs; node 9 beyond the kernel's 8-node mask/,
  );
});

Deno.test("nodes with CPUs past bit 7 are left out of the mask, and said so", () => {
  const m = replicationMask(nodes([0, 1, 2, 9], [2]));
  assert.deepEqual(m, { ok: true, mask: 0b11, nodes: [0, 1], memoryOnly: [2], beyondMask: [9] });
  assert.equal(
    describeMask(accepted(m)),
    "mask 0x3 (nodes 0, 1; node 2 left out: no CPUs; node 9 left out: beyond the kernel's 8-node mask)",
  );
  assert.deepEqual(replicaNodes([3, 1, 1, 8, -1, 0.5]), [1, 3]);
});

Deno.test("maskOfNodes: the kernel's node list as a mask; null past bit 52", () => {
  assert.equal(maskOfNodes([0, 1, 2, 3]), 15);
  assert.equal(maskOfNodes([2, 0, 2]), 5);
  assert.equal(maskOfNodes([]), 0);
  assert.equal(maskOfNodes([40]), 2 ** 40);
  assert.equal(maskOfNodes([53]), null);
  assert.equal(maskOfNodes([-1]), null);
});

Deno.test("the prctl helper takes every mask of up to 8 nodes unchanged", () => {
  for (let mask = 0; mask <= 0xff; mask++) {
    const request = parseRequest(JSON.stringify({ id: 1, mask, pid: 42 }));
    assert.deepEqual(request, { id: 1, mask, pid: 42 });
  }
});
