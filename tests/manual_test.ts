/**
 * Manual commands and pins, against the simulated 6.4 kernel behind the same
 * MitosisControl the real kernel uses.
 */
import assert from "node:assert/strict";
import {
  EXIT_NOT_PINNED,
  formatStatus,
  type ManualContext,
  runDisable,
  runEnable,
  runStatus,
  runSteer,
  runUnpin,
} from "../src/commands/manual.ts";
import type { MitosisControl, PinStore } from "../src/host.ts";
import type { ProcessInfo, Topology } from "../src/core/types.ts";
import { simTopology } from "../src/sim/topology.ts";
import { LinuxMitosis } from "../src/sys/mitosis/linux.ts";
import { libc } from "../src/ffi/libc.ts";
import { STOCK_KERNEL } from "./stock_kernel.ts";
import { SimMitosisKernel } from "../src/sim/mitosis_kernel.ts";
import { SimMitosisControl } from "../src/sim/mitosis_control.ts";
import { decodePins, formatPins, livePins, pinOf, withPin } from "../src/core/pins.ts";
import { FilePins, readPins, writePins } from "../src/sys/pins.ts";
import { MemoryPins } from "../src/sim/pins.ts";
import { processInfo } from "./support/process_info.ts";

// Opened before any test, so the resource sanitizer does not count it as a leak.
libc();

interface World {
  kernel: SimMitosisKernel;
  ctx: ManualContext;
  out: string[];
  err: string[];
  startTimes: Map<number, number>;
  dir: string;
  /** The shared pins file `ctx.pins` writes (unless the world was given other pins). */
  pinsPath: string;
}

async function world(
  options: { root?: boolean; mitosis?: MitosisControl; pins?: PinStore; topology?: Topology } = {},
): Promise<World> {
  const kernel = new SimMitosisKernel({ nodes: [0, 1, 2, 3], callerPid: 100, now: () => 0 });
  kernel.addProcess({ pid: 101, name: "mitosis_probe" });
  const startTimes = new Map([[101, 5000]]);
  const out: string[] = [];
  const err: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "waspd-manual-" });
  const lookup = (pid: number): Promise<ProcessInfo | null> => {
    const p = kernel.processes.get(pid);
    if (!p) return Promise.resolve(null);
    return Promise.resolve(processInfo(pid, {
      startTime: startTimes.get(pid) ?? 1,
      name: p.name,
      state: p.state,
      kernelThread: p.name.startsWith("kworker"),
    }));
  };
  const ctx: ManualContext = {
    mitosis: options.mitosis ?? new SimMitosisControl(kernel, () => Promise.resolve()),
    lookup,
    privileges: { root: options.root ?? true, uid: options.root === false ? 1000 : 0 },
    topology: () => Promise.resolve(options.topology ?? simTopology(4)),
    pins: options.pins ?? new FilePins(`${dir}/run/pins.json`),
    deadlineMs: 50,
    wallNow: () => Date.UTC(2026, 0, 1),
    out: (t) => void out.push(t),
    err: (t) => void err.push(t),
  };
  return { kernel, ctx, out, err, startTimes, dir, pinsPath: `${dir}/run/pins.json` };
}

type Lookup = ManualContext["lookup"];

/**
 * The real kernel calls behind a detection that says Mitosis is there: the
 * commands get past their check and a stock kernel answers prctl itself.
 */
function claimingMitosis(real: LinuxMitosis): MitosisControl {
  return {
    detect: () => Promise.resolve({ present: true, variant: "wasp-6.4", files: [], reason: null }),
    read: () => real.read(),
    setReplication: (target, mask, deadlineMs, withinMs) =>
      real.setReplication(target, mask, deadlineMs, withinMs),
    setSteering: (target, steering) => real.setSteering(target, steering),
    getSteering: (target) => real.getSteering(target),
    write: (file, value) => real.write(file, value),
  };
}

/**
 * The second lookup of a command (its re-confirmation just before the call)
 * goes through `second`, which gets the real lookup as `read`.
 */
function atReconfirmation(
  w: World,
  second: (pid: number, read: Lookup) => ReturnType<Lookup>,
): void {
  const read = w.ctx.lookup;
  let calls = 0;
  w.ctx.lookup = (pid) => (++calls === 2 ? second(pid, read) : read(pid));
}

/** A world for `use`; its scratch directory is removed afterwards whatever happens. */
async function inWorld(
  use: (w: World) => Promise<void>,
  options: Parameters<typeof world>[0] = {},
): Promise<void> {
  const w = await world(options);
  try {
    await use(w);
  } finally {
    await cleanup(w);
  }
}

async function cleanup(w: World) {
  await Deno.remove(w.dir, { recursive: true });
}

Deno.test("enable then disable: kernel state, output, pins", async () => {
  await inWorld(async (w) => {
    assert.equal(await runEnable(w.ctx, 101), 0);
    assert.equal(w.kernel.processes.get(101)?.mask, 0b1111);
    assert.deepEqual(w.out, [
      "replication on for 101 (mitosis_probe) on nodes 0,1,2,3; pinned on\n",
    ]);
    let pins = (await readPins(w.pinsPath)).pins;
    assert.equal(pinOf(pins, { pid: 101, startTime: 5000 }), "on");
    // Enabling again is fine; with another mask set, EALREADY still means "on".
    assert.equal(await runEnable(w.ctx, 101), 0);
    w.kernel.prctl(100, 0, 101);
    w.kernel.prctl(100, 0b0011, 101);
    assert.equal(await runEnable(w.ctx, 101), 0);
    assert.equal(
      w.out.at(-1),
      "replication already on for 101 (mitosis_probe) on nodes 0,1; pinned on\n",
    );

    assert.equal(await runDisable(w.ctx, 101), 0);
    assert.equal(w.kernel.processes.get(101)?.mask, 0);
    assert.equal(w.out.at(-1), "replication off for 101 (mitosis_probe); pinned off\n");
    pins = (await readPins(w.pinsPath)).pins;
    assert.equal(pinOf(pins, { pid: 101, startTime: 5000 }), "off");
    assert.equal(pinOf(pins, { pid: 101, startTime: 6000 }), null);
    assert.deepEqual(w.err, []);
  });
});

Deno.test("refusals: not root, no Mitosis, no such pid, stopped, kernel thread", async () => {
  const notRoot = await world({ root: false });
  /** The kernel of a stock machine: detection says no. */
  class StockKernel extends SimMitosisControl {
    override detect() {
      return Promise.resolve({
        present: false,
        variant: null,
        files: [],
        reason: "no /proc/mitosis and prctl(101) gives EINVAL: this kernel has no Mitosis",
      });
    }
  }
  const unavailable = new StockKernel(notRoot.kernel);
  const stock = await world({ mitosis: unavailable });
  try {
    assert.equal(await runEnable(notRoot.ctx, 101), 1);
    assert.match(notRoot.err[0] ?? "", /^waspd enable: needs root \(running as uid 1000\)/);
    assert.equal(notRoot.kernel.processes.get(101)?.mask, 0);

    assert.equal(await runDisable(stock.ctx, 101), 1);
    assert.match(
      stock.err[0] ?? "",
      /Mitosis is not available: no \/proc\/mitosis and prctl\(101\) gives EINVAL/,
    );
    assert.equal(await runStatus(stock.ctx, false), 1);
    assert.match(stock.out[0] ?? "", /^Mitosis: unavailable: no \/proc\/mitosis/);

    const w = notRoot;
    w.ctx.privileges = { root: true, uid: 0 };
    assert.equal(await runEnable(w.ctx, 4242), 1);
    assert.match(w.err.at(-1) ?? "", /no process 4242/);
    w.kernel.addProcess({ pid: 300, name: "stopped", state: "T" });
    assert.equal(await runEnable(w.ctx, 300), 1);
    assert.match(w.err.at(-1) ?? "", /300 \(stopped\) is stopped \(state T\)/);
    assert.equal(w.kernel.processes.get(300)?.mask, 0);
    w.kernel.addProcess({ pid: 301, name: "kworker/0:1" });
    assert.equal(await runEnable(w.ctx, 301), 1);
    assert.match(w.err.at(-1) ?? "", /kernel thread/);
  } finally {
    await cleanup(notRoot);
    await cleanup(stock);
  }
});

Deno.test("a pid reused between lookup and call is not touched", async () => {
  await inWorld(async (w) => {
    // Another process now holds the pid.
    atReconfirmation(w, async (pid, read) => {
      const info = await read(pid);
      return info && { ...info, startTime: info.startTime + 1 };
    });
    assert.equal(await runEnable(w.ctx, 101), 1);
    assert.match(w.err[0] ?? "", /replaced by another process \(pid reused\)/);
    assert.equal(w.kernel.processes.get(101)?.mask, 0);
  });
});

Deno.test("a process stopped after the check: the call is refused at re-confirmation", async () => {
  await inWorld(async (w) => {
    atReconfirmation(w, (pid, read) => {
      w.kernel.setProcessState(pid, "T");
      return read(pid);
    });
    assert.equal(await runEnable(w.ctx, 101), 1);
    assert.match(w.err[0] ?? "", /was stopped \(state T\)/);
  });
});

Deno.test("a call that gets stuck is reported, not pinned", async () => {
  await inWorld(async (w) => {
    // Stopped after the re-confirmation: the kernel call itself blocks.
    atReconfirmation(w, async (pid, read) => {
      const info = await read(pid);
      w.kernel.setProcessState(pid, "T");
      return info;
    });
    assert.equal(await runEnable(w.ctx, 101), 1);
    assert.match(w.err[0] ?? "", /did not return within 50 ms/);
    assert.equal((await readPins(w.pinsPath)).pins.size, 0);
  });
});

Deno.test("steer: pushes the measured array, reads it back; EINVAL when off is explained", async () => {
  await inWorld(async (w) => {
    const measured = () => Promise.resolve([1, 0, 3, 2, -1, -1, -1, -1]);
    assert.equal(await runSteer(w.ctx, 101, measured), 1);
    assert.match(w.err[0] ?? "", /EINVAL.*replication is off for this process/);
    await runEnable(w.ctx, 101);
    assert.equal(await runSteer(w.ctx, 101, measured), 0);
    assert.equal(w.out.at(-1), "steering for 101 (mitosis_probe): 1 0 3 2 -1 -1 -1 -1\n");
    assert.equal(await runSteer(w.ctx, 101, () => Promise.resolve("probe failed: no CPUs")), 1);
    assert.match(w.err.at(-1) ?? "", /no steering: probe failed/);
  });
});

Deno.test("status: text and JSON with nodes and steering; exit 1 without Mitosis", async () => {
  await inWorld(async (w) => {
    w.kernel.prctl(100, 1, 101);
    w.kernel.prctlSteering(104, new Int32Array([1, 0, 3, 2, -1, -1, -1, -1]), 101);
    w.kernel.writeFile("cache", "100");
    assert.equal(await runStatus(w.ctx, true), 0);
    const json = JSON.parse(w.out[0] ?? "");
    assert.equal(json.mitosis.available, true);
    assert.equal(json.mitosis.cache_memory_kb, 1600);
    assert.deepEqual(json.processes, [{
      pid: 101,
      tgid: 101,
      name: "mitosis_probe",
      live: true,
      nodes: [0, 1, 2, 3],
      mask: 15,
      duration_ms: 0,
      steering: [1, 0, 3, 2, -1, -1, -1, -1],
      steering_error: null,
    }]);
    assert.equal(await runStatus(w.ctx, false), 0);
    const text = w.out[1] ?? "";
    assert.match(text, /^Mitosis: wasp-6\.4 {2}mode -1 {2}inherit 1 {2}replication ACTIVE$/m);
    assert.match(text, /^ {2}node 3: 100 cached, 0 hits, 0 misses, 100 returns$/m);
    assert.match(
      text,
      /^ {2}101 mitosis_probe {2}nodes 0,1,2,3 {2}steering 1 0 3 2 -1 -1 -1 -1 {2}for 0 ms$/m,
    );
    assert.equal(
      formatStatus({
        mitosis: { ...json.mitosis, available: false, reason: "no /proc/mitosis" },
        processes: [],
      }),
      "Mitosis: unavailable: no /proc/mitosis\n",
    );
    // A comm with control bytes is printed harmlessly.
    w.kernel.processes.get(101)!.name = "evil\x1b[2J";
    await runStatus(w.ctx, false);
    assert.match(w.out[2] ?? "", /101 evil\\x1b\[2J/);
  }, { root: false });
});

Deno.test({
  name: "real: on this stock kernel, enable refuses with the detection's reason",
  ignore: !STOCK_KERNEL,
  async fn() {
    await inWorld(async (w) => {
      w.kernel.processes.set(Deno.pid, { ...w.kernel.processes.get(101)!, pid: Deno.pid });
      assert.equal(await runEnable(w.ctx, Deno.pid), 1);
      assert.match(
        w.err[0] ?? "",
        /Mitosis is not available: no \/proc\/mitosis and prctl\(101\) gives EINVAL/,
      );
      assert.equal(await runStatus(w.ctx, true), 1);
      assert.equal(JSON.parse(w.out[0] ?? "").mitosis.available, false);
    }, { mitosis: new LinuxMitosis("/proc") });
  },
});

/** Two pins (10@1 on, 11@2 off), as every pins test starts from. */
function twoPins() {
  const pins = withPin(new Map(), { pid: 10, startTime: 1 }, "on", Date.UTC(2026, 0, 1));
  return withPin(pins, { pid: 11, startTime: 2 }, "off", Date.UTC(2026, 0, 1));
}

/** A fresh directory for a pins file, removed after `use`. */
async function inPinsDir(use: (dir: string, path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "waspd-pins-" });
  try {
    await use(dir, `${dir}/sub/pins.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("pins: a missing file is no pins; what is written reads back", async () => {
  await inPinsDir(async (_dir, path) => {
    assert.deepEqual(await readPins(path), { pins: new Map(), warnings: [] });
    const pins = twoPins();
    await writePins(path, pins);
    const back = await readPins(path);
    assert.deepEqual(back.warnings, []);
    assert.deepEqual(back.pins, pins);
    assert.match(formatPins(pins), /"start_time": 1,/);
  });
});

Deno.test("pins: the file is replaced atomically, no temp file left beside it", async () => {
  await inPinsDir(async (dir, path) => {
    await writePins(path, twoPins());
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name), ["pins.json"]);
  });
});

Deno.test("pins: pruning keeps the pins of live processes only", async () => {
  const alive = (key: { pid: number; startTime: number }) => Promise.resolve(key.pid === 11);
  assert.deepEqual([...(await livePins(twoPins(), alive)).keys()], ["11@2"]);
});

Deno.test("pins: unpinning removes that pin and no other", () => {
  assert.equal(withPin(twoPins(), { pid: 10, startTime: 1 }, null, 0).size, 1);
});

// A file with a malformed entry is not waspd's; it is refused as a
// whole (and set aside by the reader) rather than partly used, and never quoted.
Deno.test("pins: a malformed entry makes the file bad; text that is not JSON is bad", () => {
  const broken = decodePins(
    '{"pins":[{"pid":1,"start_time":2,"state":"maybe"},{"pid":3,"start_time":4,"state":"on"}]}',
  );
  assert.deepEqual(broken, { ok: false, reason: "entry 0 is malformed" });
  assert.deepEqual(decodePins("{oops"), { ok: false, reason: "not JSON" });
});

Deno.test("pins not shared (a simulation without --state-dir): enable does not pin, unpin exits 3", async () => {
  await inWorld(async (w) => {
    assert.equal(await runEnable(w.ctx, 101), 0);
    assert.deepEqual(w.out, ["replication on for 101 (mitosis_probe) on nodes 0,1,2,3\n"]);
    assert.equal((await w.ctx.pins.read()).pins.size, 0);
    assert.equal(await runUnpin(w.ctx, 101), EXIT_NOT_PINNED);
    assert.deepEqual(w.err, [
      "waspd unpin: 101 (mitosis_probe) is not pinned (pins here last one run)\n",
    ]);
  }, { pins: new MemoryPins() });
});

Deno.test("unpin removes the pin from the host's shared pins", async () => {
  await inWorld(async (w) => {
    assert.equal(await runEnable(w.ctx, 101), 0);
    assert.equal(pinOf((await readPins(w.pinsPath)).pins, { pid: 101, startTime: 5000 }), "on");
    assert.equal(await runUnpin(w.ctx, 101), 0);
    assert.equal(w.out.at(-1), "101 (mitosis_probe) unpinned\n");
    assert.equal((await readPins(w.pinsPath)).pins.size, 0);
    assert.equal(await runUnpin(w.ctx, 999), 1);
    assert.deepEqual(w.err, ["waspd unpin: no process 999\n"]);
  });
});

Deno.test({
  name: "real: enable/disable reach this stock kernel through the helper and report its EINVAL",
  ignore: !STOCK_KERNEL,
  async fn() {
    const mitosis = new LinuxMitosis("/proc");
    const w = await world({ mitosis: claimingMitosis(mitosis) });
    try {
      w.ctx.deadlineMs = 2000;
      w.kernel.processes.set(Deno.pid, { ...w.kernel.processes.get(101)!, pid: Deno.pid });
      assert.equal(await runEnable(w.ctx, Deno.pid), 1);
      assert.equal(await runDisable(w.ctx, Deno.pid), 1);
      assert.equal(w.err.length, 2, w.err.join(""));
      for (const [i, command] of ["enable", "disable"].entries()) {
        assert.match(
          w.err[i] ?? "",
          new RegExp(
            `^waspd ${command}: prctl\\(100, 0x[0f], pid \\d+\\) failed: EINVAL .*no Mitosis here`,
          ),
        );
        assert.doesNotMatch(w.err[i] ?? "", /stuck|did not return|did not start/);
      }
      assert.deepEqual(w.out, []);
    } finally {
      assert.equal(await mitosis.drain(5000), 0);
      await cleanup(w);
    }
  },
});

Deno.test("enable replicates on the nodes with CPUs; with one such node it refuses, no kernel call", async () => {
  await inWorld(async (w) => {
    assert.equal(await runEnable(w.ctx, 101), 0);
    assert.equal(w.kernel.processes.get(101)?.mask, 0b0111, "node 3 is memory-only");
    assert.equal(
      w.out.at(-1),
      "replication on for 101 (mitosis_probe) on nodes 0,1,2; pinned on\n",
    );
  }, { topology: simTopology(4, [], [3]) });
  await inWorld(async (w) => {
    assert.equal(await runEnable(w.ctx, 101), 1);
    assert.equal(w.kernel.processes.get(101)?.mask, 0, "nothing asked of the kernel");
    assert.deepEqual(w.err, [
      "waspd enable: replication needs 2 or more nodes with CPUs (only node 0 has CPUs; " +
      "memory-only: nodes 1, 2, 3): a replica where no CPU runs is never walked; nothing done\n",
    ]);
    assert.deepEqual(w.out, []);
    // Turning off needs no mask: it still works there.
    w.kernel.prctl(100, 0b0011, 101);
    assert.equal(await runDisable(w.ctx, 101), 0);
    assert.equal(w.kernel.processes.get(101)?.mask, 0);
  }, { topology: simTopology(4, [], [1, 2, 3]) });
});
