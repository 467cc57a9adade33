import assert from "node:assert/strict";
import { readTopology } from "../src/sys/topology.ts";
import type { NumaNode, Topology } from "../src/core/types.ts";
import type { Prober } from "../src/host.ts";
import { LinuxProber } from "../probe/prober.ts";
import {
  chooseBufferBytes,
  desiredBuffer,
  MAX_DESIRED_BUFFER_BYTES,
  memoryShortage,
  pickCpu,
  planProbe,
} from "../probe/plan.ts";
import { placementProblem, sampleAddresses } from "../probe/cell.ts";
import { runProbe, spreadWarning } from "../src/commands/probe.ts";
import { libc } from "../src/ffi/libc.ts";
import { ptlMeasurement } from "./fixtures/ptl_measurement.ts";

// The prober reads this thread's CPU affinity through libc, which stays open
// for the life of the thread by design: open it before any test so the
// resource sanitizer does not count it against the first one.
libc();

const MIB = 1024 * 1024;
/** Small rounds keep a real measurement to a second or so; values are never asserted tightly. */
const quick = () => new LinuxProber({ rounds: 3, loadsPerRound: 20_000 });

function node(
  id: number,
  cpus: number[],
  memTotalKb: number | null,
  memFreeKb: number | null,
): NumaNode {
  return { id, cpus, memTotalKb, memFreeKb, distances: [] };
}

function topologyOf(nodes: NumaNode[], llcBytes: number | null = 32 * MIB): Topology {
  return {
    nodes,
    llcBytes,
    cpu: { vendor: null, family: null, model: null, modelName: null, mhz: null },
    fiveLevelPaging: { cpuFlag: false, disabledOnCmdline: false, active: false },
    warnings: [],
  };
}

Deno.test("real: a 1x1 matrix on this machine, placement and pinning verified", async () => {
  const topology = await readTopology();
  const prober = quick();
  const d = await prober.measureDetailed(topology, { bufferBytes: 64 * MIB });
  const m = d.measurement;
  const rowNodes = topology.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id);
  assert.deepEqual(m.rows, rowNodes);
  assert.equal(m.bufferBytes, 64 * MIB);
  for (let r = 0; r < m.rows.length; r++) {
    const reply = d.replies[r]!;
    assert.equal(reply.error, null);
    assert.equal(reply.cpu, d.plan.rows[r]!.cpu, "worker ran on the CPU it pinned to");
    for (let c = 0; c < m.cols.length; c++) {
      assert.equal(m.errors[r]![c], null);
      const ns = m.latencyNs[r]![c]!;
      assert.ok(ns > 0 && ns < 10_000, `latency ${ns} ns`);
      assert.ok((m.spread[r]![c] ?? -1) >= 0);
      assert.ok(reply.cells[c]!.pagesVerified > 0, "move_pages confirmed the pages");
      assert.equal(reply.cells[c]!.roundsNs.length, 3);
    }
  }
  assert.ok(m.durationMs > 0);
  assert.ok(Math.abs(m.startedAtMs - Date.now()) < 60_000);
});

Deno.test("real: a buffer bound to a node that does not exist is an error, never a latency", async () => {
  const real = await readTopology();
  const home = real.nodes.find((n) => n.cpus.length > 0)!;
  // Node 63 as a memory-only column: mbind(MPOL_BIND, {63}) fails on this machine.
  const topology = topologyOf([home, node(63, [], 1024 * 1024, 1024 * 1024)], real.llcBytes);
  const m = await quick().measure(topology, { bufferBytes: 8 * MIB });
  const c = m.cols.indexOf(63);
  assert.equal(m.latencyNs[0]![c], null);
  assert.match(m.errors[0]![c]!, /mbind\(nodes 63\) failed: E/);
  assert.equal(m.errors[0]![m.cols.indexOf(home.id)], null, "the real cell still measured");
});

Deno.test("real: a row without a usable CPU fails as a row, no worker started", async () => {
  const topology = topologyOf([node(0, [4000], 1024 * 1024, 1024 * 1024)]);
  const m = await quick().measure(topology, { bufferBytes: 8 * MIB });
  assert.deepEqual(m.latencyNs, [[null]]);
  assert.match(m.errors[0]![0]!, /no usable CPU on node 0/);
});

Deno.test("real: an aborted measurement rejects and leaves no worker behind", async () => {
  const topology = await readTopology();
  const before = new AbortController();
  before.abort();
  await assert.rejects(quick().measure(topology, { signal: before.signal }), {
    name: "AbortError",
  });
  // The abort must land while a worker is busy with its row, on any machine:
  // the row cannot finish by itself (rounds without end), and the abort is
  // raised only once the row request is known to be with its worker.
  const during = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  using endless = new LinuxProber({
    rounds: Number.MAX_SAFE_INTEGER,
    loadsPerRound: 20_000,
    // A moment later the worker is setting the cell up or chasing; either way
    // it sees the flag at its next check. The delay is not measured or asserted.
    onRowSent: () => timer ??= setTimeout(() => during.abort(), 50),
  });
  try {
    await assert.rejects(
      endless.measure(topology, { bufferBytes: 16 * MIB, signal: during.signal }),
      { name: "AbortError" },
    );
    assert.ok(timer !== undefined, "the abort came after a row was sent");
  } finally {
    clearTimeout(timer);
  }
  // The test sanitizers fail this test if a Worker or timer were still alive.
});

Deno.test("real: the free-memory guard reads node meminfo under --sys-root, not /sys", async () => {
  const topology = await readTopology();
  const sysRoot = await Deno.makeTempDir({ prefix: "waspd-sysroot-" });
  try {
    // Every node of this machine, as a sysfs tree that says 1 MiB is free.
    for (const n of topology.nodes) {
      const dir = `${sysRoot}/devices/system/node/node${n.id}`;
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(`${dir}/meminfo`, `Node ${n.id} MemFree:       1024 kB\n`);
    }
    using prober = new LinuxProber({ rounds: 2, loadsPerRound: 10_000, sysRoot });
    const m = await prober.measure(topology, { bufferBytes: 8 * MIB });
    assert.ok(m.errors.length > 0);
    for (const row of m.errors) {
      for (const error of row) assert.match(error ?? "", /has 1 MiB free/);
    }
    assert.ok(m.latencyNs.every((row) => row.every((v) => v === null)));
  } finally {
    await Deno.remove(sysRoot, { recursive: true });
  }
});

Deno.test("real: kept workers serve a second measurement and close() ends them", async () => {
  const topology = await readTopology();
  // `using` ends the kept workers as the test leaves; the sanitizers fail it if one outlived it.
  using prober = new LinuxProber({ rounds: 2, loadsPerRound: 10_000, keepWorkers: true });
  const first = await prober.measure(topology, { bufferBytes: 16 * MIB });
  // A second call while one runs is refused, not interleaved.
  const second = prober.measure(topology, { bufferBytes: 16 * MIB });
  await assert.rejects(prober.measure(topology), /already running/);
  const m = await second;
  for (const x of [first, m]) {
    assert.ok(x.errors.every((row) => row.every((e) => e === null)), JSON.stringify(x.errors));
    assert.ok(x.latencyNs.every((row) => row.every((v) => v !== null && v > 0)));
  }
});

Deno.test("plan: rows are CPU nodes, columns memory nodes, buffer fits free memory", () => {
  const topology = topologyOf([
    node(0, [0, 1], 4 * 1024 * 1024, 2 * 1024 * 1024),
    node(1, [2, 3], 4 * 1024 * 1024, 120 * 1024), // 120 MiB free, like the QEMU guest
    node(2, [], 4 * 1024 * 1024, 2 * 1024 * 1024), // memory only
    node(3, [4], 0, 0), // CPU only
  ]);
  const plan = planProbe(topology, null, null);
  assert.deepEqual(plan.rows, [{ node: 0, cpu: 1 }, { node: 1, cpu: 3 }, { node: 3, cpu: 4 }]);
  assert.deepEqual(plan.cols, [0, 1, 2]);
  assert.equal(plan.bufferBytes, 30 * MIB); // a quarter of 120 MiB
  assert.match(plan.notes.join(), /shrunk from 128 MiB to 30 MiB/);
  assert.deepEqual(planProbe(topology, new Set([0, 2]), null).rows.map((r) => r.cpu), [0, 2, null]);
  const unknown = planProbe(topologyOf([node(0, [0], null, null)]), null, null);
  assert.deepEqual(unknown.cols, []);
  assert.match(unknown.notes.join(), /node 0: memory size unknown/);
});

Deno.test("plan: buffer size rules", () => {
  assert.equal(chooseBufferBytes(32 * MIB, [null], null).bytes, 128 * MIB);
  assert.equal(chooseBufferBytes(null, [], null).bytes, 64 * MIB);
  assert.equal(chooseBufferBytes(8 * MIB, [], null).bytes, 64 * MIB);
  assert.equal(chooseBufferBytes(null, [], 10 * MIB + 5).bytes, 10 * MIB);
  assert.match(chooseBufferBytes(null, [null], null).notes.join(), /unknown/);
  assert.match(chooseBufferBytes(null, [16 * 1024], null).notes.join(), /cache latency/);
  assert.equal(pickCpu(node(0, [], 1, 1), null), null);
});

Deno.test("plan: the buffer follows the LLC up to a bound, and says why; unknown LLC is a stated default", () => {
  // A VM reporting a 384 MiB LLC got 1.5 GiB per node: now capped, with the reason.
  const huge = chooseBufferBytes(384 * MIB, [null], null);
  assert.equal(huge.bytes, MAX_DESIRED_BUFFER_BYTES);
  assert.equal(MAX_DESIRED_BUFFER_BYTES, 512 * MIB);
  assert.match(huge.why, /4 x the 384 MiB last-level cache would be 1536 MiB: capped at 512 MiB/);
  assert.equal(chooseBufferBytes(96 * MIB, [null], null).bytes, 384 * MIB);
  assert.match(chooseBufferBytes(32 * MIB, [], null).why, /^4 x the 32 MiB last-level cache/);
  const unknown = chooseBufferBytes(null, [], null);
  assert.equal(unknown.bytes, 64 * MIB);
  assert.match(unknown.why, /last-level cache size unknown .*cpu0\/cache.*64 MiB, a safe default/);
  assert.match(chooseBufferBytes(null, [], 10 * MIB).why, /--buffer-mb/);
  assert.equal(desiredBuffer(0).bytes, 64 * MIB);
});

Deno.test("probe warns when rounds disagree by more than 20 %, and says what that means", async () => {
  const m = ptlMeasurement([[90, 150], [152, 95]], {
    durationMs: 5,
    spread: [[0.05, 1.75], [0.21, 0.19]],
  });
  const warning = spreadWarning(m);
  assert.ok(warning !== null);
  assert.match(
    warning,
    /rounds disagree by up to 175% \(cpu node 0 -> memory node 1; 2 cells over 20%\)/,
  );
  assert.match(warning, /not stable.*steal time.*may follow noise/);
  assert.equal(spreadWarning({ ...m, spread: [[0.05, 0.2], [null, 0.1]] }), null);
  const prober: Prober = { measure: () => Promise.resolve(m) };
  const topology = { ...topologyOf([node(0, [0], 1, 1), node(1, [1], 1, 1)]), llcBytes: null };
  let text = "";
  assert.equal(
    await runProbe(prober, topology, { rounds: null, bufferMb: null }, false, (s) => (text += s)),
    0,
  );
  assert.match(text, /^buffer 64 MiB per node: last-level cache size unknown/m);
  assert.match(text, /^warning: rounds disagree by up to 175%/m);
  let json = "";
  await runProbe(prober, topology, { rounds: null, bufferMb: null }, true, (s) => (json += s));
  const doc = JSON.parse(json);
  assert.match(doc.warnings.join("\n"), /rounds disagree by up to 175%/);
  assert.equal(doc.buffer.bytes, 64 * MIB);
  assert.match(doc.buffer.why, /unknown/);
});

Deno.test("placement: sampled addresses and the summary of misplaced pages", () => {
  const base = 0x7f0000000000n;
  const addrs = sampleAddresses(base, 1024 * 1024, 256 * 1024);
  assert.equal(addrs.length, 2 + 4);
  assert.equal(addrs[0], base);
  assert.equal(addrs[1], base + BigInt(1024 * 1024 - 4096));
  assert.equal(addrs[3], base + BigInt(256 * 1024 + 4096), "page offset moves per group");
  assert.equal(placementProblem([2, 2, 2], 2), null);
  assert.equal(
    placementProblem([2, 0, 0, -2], 2),
    "placement: 2 on node 0, 1 with error 2 of 4 sampled pages, expected node 2",
  );
});

Deno.test("runProbe prints the tables or one JSON object, exit 1 on a failed cell", async () => {
  const m = ptlMeasurement([[90, 150], [152, null]], {
    durationMs: 12.5,
    spread: [[0.01, 0.01], [0.01, null]],
    errors: [[null, null], [
      null,
      "placement: 512 on node 0 of 512 sampled pages, expected node 1",
    ]],
    bufferBytes: 128 * MIB,
  });
  const asked: unknown[] = [];
  const prober: Prober = {
    measure: (_t, options) => {
      asked.push(options);
      return Promise.resolve(m);
    },
  };
  const topology = topologyOf([node(0, [0], 1, 1), node(1, [1], 1, 1)]);
  let text = "";
  const rc = await runProbe(
    prober,
    topology,
    { rounds: 5, bufferMb: 32 },
    false,
    (s) => (text += s),
  );
  assert.equal(rc, 1);
  assert.deepEqual(asked[0], { rounds: 5, bufferBytes: 32 * MIB });
  assert.match(text, /measured in 13 ms/);
  assert.match(text, /cpu node 1 -> memory node 1: placement: 512 on node 0/);
  assert.match(text, /prctl 104 array: \[-1, 0, -1, -1, -1, -1, -1, -1\]/);
  let json = "";
  await runProbe(
    prober,
    topology,
    { rounds: null, bufferMb: null },
    true,
    (s) => (json += s),
    () => m.startedAtMs + 1000,
  );
  const doc = JSON.parse(json);
  assert.deepEqual(doc.ptl.latency_ns, m.latencyNs);
  assert.equal(doc.ptl.age_ms, 1000 - 12.5);
  assert.deepEqual(doc.steering.array, [-1, 0, -1, -1, -1, -1, -1, -1]);
  assert.deepEqual(doc.steering.choices[1], { node: 1, replica: 0, remote: true });
  assert.deepEqual(asked[1], {});
});

Deno.test("a node without room for the buffer is an error cell, never an OOM-killed daemon", () => {
  const MIB = 1024 * 1024;
  assert.equal(memoryShortage(2, 96 * MIB, 64 * MIB), null);
  assert.equal(memoryShortage(2, null, 64 * MIB), null);
  assert.match(
    memoryShortage(2, 95 * MIB, 64 * MIB) ?? "",
    /^node 2 has 95 MiB free, 96 MiB needed for a 64 MiB buffer: not measured/,
  );
});
