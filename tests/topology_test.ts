import assert from "node:assert/strict";
import {
  readCpuFlags,
  readFixedFacts,
  readHypervisorPresent,
  readTopology,
} from "../src/sys/topology.ts";
import {
  hypervisorPresent,
  parseCacheSize,
  parseCpuinfo,
  parseDistanceRow,
  parseNodeMeminfo,
  parseRangeList,
} from "../src/core/topology_parse.ts";
import {
  cmdlineDisables5Level,
  fiveLevelPaging,
  pickLastLevelCache,
} from "../src/core/topology_parse.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const fixture = (sys: string, proc: string) => readTopology(FIXTURES + sys, FIXTURES + proc);

Deno.test("parseRangeList: ranges, singles, empty and junk", () => {
  assert.deepEqual(parseRangeList("0-3,5,8-9\n"), [0, 1, 2, 3, 5, 8, 9]);
  assert.deepEqual(parseRangeList("7"), [7]);
  assert.deepEqual(parseRangeList("\n"), []); // a CPU-less node's cpulist
  assert.deepEqual(parseRangeList("3,1-2,2"), [1, 2, 3]);
  assert.equal(parseRangeList("0-1,x"), null);
  assert.equal(parseRangeList("3-1"), null);
  assert.equal(parseRangeList("0-"), null);
  assert.equal(parseRangeList("0-4294967295"), null);
  assert.equal(parseRangeList("1,,2"), null);
});

Deno.test("parseNodeMeminfo: real shape, truncated lines are missing not 0", () => {
  const text = "Node 3 MemTotal:       32771072 kB\nNode 3 MemFree:        30100056 kB\n" +
    "Node 3 MemUsed:         2671016 kB\n";
  assert.deepEqual(parseNodeMeminfo(text), { memTotalKb: 32771072, memFreeKb: 30100056 });
  assert.deepEqual(parseNodeMeminfo("Node 1 MemTotal:        8192000 kB\nNode 1 MemFree:  12"), {
    memTotalKb: 8192000,
    memFreeKb: null,
  });
  assert.deepEqual(parseNodeMeminfo(""), { memTotalKb: null, memFreeKb: null });
});

Deno.test("parseDistanceRow and parseCacheSize", () => {
  assert.deepEqual(parseDistanceRow("10 16 32 32\n"), [10, 16, 32, 32]);
  assert.equal(parseDistanceRow("10 2O"), null);
  assert.equal(parseDistanceRow("  \n"), null);
  assert.equal(parseCacheSize("32768K\n"), 32 * 1024 * 1024);
  assert.equal(parseCacheSize("1M"), 1024 * 1024);
  assert.equal(parseCacheSize("512"), 512);
  assert.equal(parseCacheSize("lots"), null);
  assert.equal(parseCacheSize(""), null);
});

Deno.test("pickLastLevelCache: highest data/unified level, instruction caches ignored", () => {
  const caches = [
    { index: "index0", level: "1", size: "32K", type: "Data" },
    { index: "index1", level: "4", size: "64M", type: "Instruction" },
    { index: "index2", level: "2", size: "512K", type: "Unified" },
  ];
  assert.deepEqual(pickLastLevelCache(caches), { bytes: 512 * 1024, problems: [] });
  const broken = pickLastLevelCache([{ index: "index3", level: null, size: "1M", type: null }]);
  assert.equal(broken.bytes, null);
  assert.equal(broken.problems.length, 1);
  assert.match(broken.problems[0] ?? "", /index3.*level/);
});

Deno.test("parseCpuinfo: first processor only; garbage numbers become null with a problem", () => {
  const two = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n" +
    "model name\t: Xeon\ncpu MHz\t\t: 2600.000\nflags\t\t: fpu la57 hypervisor\n\n" +
    "processor\t: 1\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n";
  const info = parseCpuinfo(two);
  assert.deepEqual(info.identity, {
    vendor: "GenuineIntel",
    family: 6,
    model: 85,
    modelName: "Xeon",
    mhz: 2600,
  });
  assert.deepEqual([...info.flags], ["fpu", "la57", "hypervisor"]);
  assert.deepEqual(info.problems, []);
  assert.equal(hypervisorPresent(info.flags), true);

  const bad = parseCpuinfo("vendor_id : X\ncpu family : 6a\nmodel : \n");
  assert.equal(bad.identity.family, null);
  assert.equal(bad.identity.model, null);
  assert.equal(bad.identity.mhz, null);
  assert.ok(bad.problems.some((p) => p.includes("cpu family")));
  assert.ok(bad.problems.some((p) => p.includes("flags")));
});

Deno.test("five-level paging: flag, no5lvl as a whole word only", () => {
  const la57 = new Set(["la57"]);
  assert.deepEqual(fiveLevelPaging(la57, "ro quiet"), {
    cpuFlag: true,
    disabledOnCmdline: false,
    active: true,
  });
  assert.deepEqual(fiveLevelPaging(la57, "ro no5lvl quiet"), {
    cpuFlag: true,
    disabledOnCmdline: true,
    active: false,
  });
  assert.equal(cmdlineDisables5Level("ro no5lvlx"), false);
  assert.equal(fiveLevelPaging(new Set(), "no5lvl").active, false);
});

Deno.test("fixture: 2 sockets x 2 nodes, asymmetric SLIT, Skylake-SP without la57", async () => {
  const topo = await fixture("sys-2socket-4node", "proc-skylake");
  assert.deepEqual(topo.warnings, []);
  assert.deepEqual(topo.nodes.map((n) => n.id), [0, 1, 2, 3]);
  assert.deepEqual(topo.nodes.map((n) => n.cpus), [
    [0, 1, 2, 3],
    [4, 5, 6, 7],
    [8, 9, 10, 11],
    [12, 13, 14, 15],
  ]);
  assert.deepEqual(topo.nodes.map((n) => n.distances), [
    [10, 16, 32, 32],
    [16, 10, 32, 32],
    [32, 32, 10, 16],
    [32, 32, 16, 10],
  ]);
  assert.equal(topo.nodes[1]?.memTotalKb, 32769024);
  assert.equal(topo.nodes[1]?.memFreeKb, 30108248);
  assert.equal(topo.llcBytes, 39424 * 1024);
  assert.deepEqual(topo.cpu, {
    vendor: "GenuineIntel",
    family: 6,
    model: 85,
    modelName: "Intel(R) Xeon(R) Gold 6132 CPU @ 2.60GHz",
    mhz: 2600,
  });
  assert.deepEqual(topo.fiveLevelPaging, {
    cpuFlag: false,
    disabledOnCmdline: false,
    active: false,
  });
  assert.equal(await readHypervisorPresent(FIXTURES + "proc-skylake"), false);
});

Deno.test("fixture: memory-only node 2, Ice Lake with la57 disabled by no5lvl", async () => {
  const topo = await fixture("sys-memonly", "proc-icelake-no5lvl");
  assert.deepEqual(topo.warnings, []);
  assert.equal(topo.nodes.length, 3);
  assert.deepEqual(topo.nodes[2]?.cpus, []);
  assert.equal(topo.nodes[2]?.memTotalKb, 134217728);
  assert.deepEqual(topo.nodes[2]?.distances, [24, 24, 10]);
  assert.equal(topo.nodes[0]?.cpus.length, 8);
  assert.equal(topo.cpu.model, 106);
  assert.equal(topo.llcBytes, 55296 * 1024);
  assert.deepEqual(topo.fiveLevelPaging, { cpuFlag: true, disabledOnCmdline: true, active: false });

  const on = await fixture("sys-memonly", "proc-icelake");
  assert.deepEqual(on.fiveLevelPaging, { cpuFlag: true, disabledOnCmdline: false, active: true });
});

Deno.test("fixture: 8 nodes, AMD Zen 3 under a hypervisor", async () => {
  const topo = await fixture("sys-8node", "proc-zen3");
  assert.deepEqual(topo.warnings, []);
  assert.deepEqual(topo.nodes.map((n) => n.id), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (const node of topo.nodes) {
    assert.equal(node.distances.length, 8);
    assert.equal(node.distances[node.id], 10);
    assert.deepEqual(node.cpus, [node.id * 2, node.id * 2 + 1]);
  }
  assert.equal(topo.nodes[0]?.distances[4], 32);
  assert.equal(topo.nodes[5]?.distances[6], 12);
  assert.equal(topo.cpu.vendor, "AuthenticAMD");
  assert.equal(topo.cpu.family, 25);
  assert.equal(topo.cpu.model, 1);
  assert.equal(topo.llcBytes, 32 * 1024 * 1024);
  const flags = await readCpuFlags(FIXTURES + "proc-zen3");
  assert.equal(hypervisorPresent(flags), true);
});

Deno.test("fixture: malformed files give warnings and nulls, never a throw", async () => {
  const topo = await fixture("sys-malformed", "proc-malformed");
  const warned = (re: RegExp) => topo.warnings.some((w) => re.test(w));
  // Junk `online`: falls back to the node directories present.
  assert.deepEqual(topo.nodes.map((n) => n.id), [0, 1]);
  assert.ok(warned(/node\/online: unreadable node list/));
  // Garbled distance row: no distances for node 0, a warning.
  assert.deepEqual(topo.nodes[0]?.distances, []);
  assert.ok(warned(/node0\/distance: unreadable row "10 2O"/));
  // Truncated meminfo: MemTotal kept, MemFree unknown (null, not 0).
  assert.equal(topo.nodes[1]?.memTotalKb, 8192000);
  assert.equal(topo.nodes[1]?.memFreeKb, null);
  assert.ok(warned(/node1\/meminfo: MemTotal or MemFree missing or truncated/));
  // Missing cpulist: no CPUs, a warning.
  assert.deepEqual(topo.nodes[1]?.cpus, []);
  assert.ok(warned(/node1\/cpulist: missing/));
  // L3 size and L2 level unreadable: both reported; the L1D is what is left.
  assert.ok(warned(/index3: unreadable size/));
  assert.ok(warned(/index2: unreadable level/));
  assert.equal(topo.llcBytes, 32 * 1024);
  // Truncated cpuinfo: vendor and model kept, family unknown.
  assert.equal(topo.cpu.vendor, "AuthenticAMD");
  assert.equal(topo.cpu.family, null);
  assert.equal(topo.cpu.model, 1);
  assert.ok(warned(/cpuinfo: unreadable "cpu family"/));
  assert.ok(warned(/cmdline: missing/));
  assert.equal(topo.fiveLevelPaging.active, false);
});

Deno.test("fixture: a distance row with the wrong length is kept and warned about", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-topo-" });
  try {
    const node = `${dir}/devices/system/node`;
    for (const id of [0, 1]) {
      await Deno.mkdir(`${node}/node${id}`, { recursive: true });
      await Deno.writeTextFile(`${node}/node${id}/cpulist`, `${id}\n`);
      await Deno.writeTextFile(
        `${node}/node${id}/meminfo`,
        `Node ${id} MemTotal: 100 kB\nNode ${id} MemFree: 50 kB\n`,
      );
    }
    await Deno.writeTextFile(`${node}/online`, "0-1\n");
    await Deno.writeTextFile(`${node}/node0/distance`, "10 20\n");
    await Deno.writeTextFile(`${node}/node1/distance`, "20\n");
    const topo = await readTopology(dir, FIXTURES + "proc-zen3");
    assert.deepEqual(topo.nodes[1]?.distances, [20]);
    assert.ok(topo.warnings.some((w) => /node1\/distance: 1 entries for 2 online nodes/.test(w)));
    assert.ok(topo.warnings.some((w) => /cpu0\/cache: missing/.test(w)));
    assert.equal(topo.llcBytes, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("no NUMA directory at all: one node 0 from cpu/online and /proc/meminfo", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-nonuma-" });
  try {
    await Deno.mkdir(`${dir}/sys/devices/system/cpu`, { recursive: true });
    await Deno.writeTextFile(`${dir}/sys/devices/system/cpu/online`, "0-3\n");
    await Deno.mkdir(`${dir}/proc`);
    await Deno.writeTextFile(
      `${dir}/proc/meminfo`,
      "MemTotal:        4024096 kB\nMemFree:         3851520 kB\nMemAvailable:    3900000 kB\n",
    );
    const topo = await readTopology(`${dir}/sys`, `${dir}/proc`);
    assert.deepEqual(topo.nodes, [
      { id: 0, cpus: [0, 1, 2, 3], memTotalKb: 4024096, memFreeKb: 3851520, distances: [10] },
    ]);
    assert.ok(topo.warnings.some((w) => /no NUMA node information/.test(w)));
    assert.ok(topo.warnings.some((w) => /cpuinfo: missing/.test(w)));
    assert.equal(topo.cpu.vendor, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with fixed facts read once, only the nodes are read again; the result is the same", async () => {
  const sys = FIXTURES + "sys-8node";
  const proc = FIXTURES + "proc-zen3";
  const fixed = readFixedFacts(sys, proc);
  assert.deepEqual(await readTopology(sys, proc, fixed), await readTopology(sys, proc));
  // The facts given are the ones used: cpuinfo and the caches are not read again.
  const other = await readTopology(
    FIXTURES + "sys-2socket-4node",
    FIXTURES + "proc-skylake",
    fixed,
  );
  assert.equal(other.cpu.vendor, (await fixed).cpu.vendor);
  assert.equal(other.llcBytes, (await fixed).llcBytes);
  assert.equal(other.nodes.length, 4, "the nodes of the tree asked for");
  const malformed = readFixedFacts(FIXTURES + "sys-malformed", FIXTURES + "proc-malformed");
  const mixed = await readTopology(sys, proc, malformed);
  assert.deepEqual(mixed.warnings, (await malformed).warnings, "the facts' warnings ride along");
});

Deno.test("this machine's real /sys and /proc", async () => {
  const topo = await readTopology();
  // Some hypervisors publish no cache directory: then the one warning says so
  // and the size is unknown, never a made-up figure.
  const cacheDir = "/sys/devices/system/cpu/cpu0/cache";
  const hasCacheInfo = await Deno.stat(cacheDir).then(() => true, () => false);
  assert.deepEqual(
    topo.warnings,
    hasCacheInfo ? [] : [`${cacheDir}: missing; last-level cache size unknown`],
  );
  assert.ok(topo.nodes.length >= 1);
  const node0 = topo.nodes[0];
  assert.ok(node0 !== undefined);
  assert.equal(node0.id, 0);
  assert.ok(node0.cpus.length > 0);
  assert.ok((node0.memTotalKb ?? 0) > 0);
  assert.ok(node0.memFreeKb !== null && node0.memFreeKb <= (node0.memTotalKb ?? 0));
  assert.equal(node0.distances.length, topo.nodes.length);
  assert.equal(node0.distances[0], 10);
  if (hasCacheInfo) assert.ok(topo.llcBytes !== null && topo.llcBytes > 0);
  else assert.equal(topo.llcBytes, null);
  assert.ok(topo.cpu.vendor !== null && topo.cpu.family !== null && topo.cpu.model !== null);
  // Every CPU in /sys/devices/system/cpu/online is on exactly one node.
  const online = parseRangeList(await Deno.readTextFile("/sys/devices/system/cpu/online"));
  assert.deepEqual(topo.nodes.flatMap((n) => n.cpus).sort((a, b) => a - b), online);
});
