/**
 * Benchmark (not a test): what one daemon tick allocates on the real host
 * with N real idle processes (started here), as V8's sampling heap profiler
 * sees it (objects already collected included). Each tick is followed by the
 * JSON line `--json` would print. Nearly all of it is garbage by the next
 * tick, and that garbage is what the daemon's heap grows by between
 * collections (its RSS: bench/daemon_cost_bench.ts).
 *
 *   deno run -A bench/tick_alloc_bench.ts [--procs 2000] [--ticks 20]
 *
 * Prints MB allocated per tick and the allocation sites that dominate it.
 */
import inspector from "node:inspector";
import { parseArgs } from "node:util";
import { defaultConfig } from "../src/options.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { LinuxHost } from "../src/sys/linux_host.ts";

const { values } = parseArgs({
  options: { procs: { type: "string", default: "2000" }, ticks: { type: "string", default: "20" } },
});
const PROCS = Number(values.procs);
const TICKS = Number(values.ticks);

interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

const session = new inspector.Session();
session.connect();
const post = <T>(method: string, params: object = {}) =>
  new Promise<T>((resolve, reject) =>
    session.post(method, params, (error, result) => error ? reject(error) : resolve(result as T))
  );

/** Bytes per allocation site ("function file:line"), summed over the sampled tree. */
function bySite(root: SampleNode): Map<string, number> {
  const sites = new Map<string, number>();
  const walk = (node: SampleNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split("/").slice(-2).join("/");
    const site = `${functionName || "(anonymous)"} ${file}:${lineNumber + 1}`;
    sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk(root);
  return sites;
}

// N idle processes, in one process group so they all go at the end.
const sleepers = new Deno.Command("setsid", {
  args: ["bash", "-c", `for i in $(seq ${PROCS}); do sleep 600 & done; wait`],
  stdout: "null",
  stderr: "null",
}).spawn();
const stateDir = await Deno.makeTempDir({ prefix: "waspd-bench-" });
try {
  await new Promise((r) => setTimeout(r, 500 + PROCS));
  // As tick_bench: a temporary state dir and --keep-inherit, so nothing of a
  // running waspd or of the host's Mitosis settings is touched.
  const host = await LinuxHost.open({ procRoot: "/proc", sysRoot: "/sys", stateDir });
  await using daemon = await Daemon.open(host, { ...defaultConfig(), keepInherit: true });
  for (let i = 0; i < 3; i++) JSON.stringify(await daemon.tick()); // warm: code compiled, caches full

  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  let tracked = 0;
  for (let i = 0; i < TICKS; i++) {
    const snapshot = await daemon.tick();
    JSON.stringify(snapshot);
    tracked = snapshot.processes.length;
  }
  const { profile } = await post<{ profile: { head: SampleNode } }>("HeapProfiler.stopSampling");
  const sites = bySite(profile.head);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  console.log(`processes tracked: ${tracked} (${PROCS} started); ${TICKS} ticks sampled`);
  console.log(`allocated per tick (tick + its JSON line): ${(total / TICKS / 1e6).toFixed(2)} MB`);
  console.log("largest sites (MB per tick):");
  for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`  ${(bytes / TICKS / 1e6).toFixed(3)}  ${site}`);
  }
} finally {
  try {
    Deno.kill(-sleepers.pid, "SIGKILL");
  } catch { /* already gone */ }
  await sleepers.status;
  await Deno.remove(stateDir, { recursive: true });
}
