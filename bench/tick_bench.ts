/**
 * Benchmark (not a test): the cost of one daemon tick on the real host with
 * N real idle processes (started here), against `ps -e -o pid,stat,rss,comm`
 * reading the same processes in the same run. Prints CPU ms per steady-state
 * tick, the ratio to ps, and this bench process's steady RSS (the daemon
 * in-process, at deno's default V8 flags: the RSS users see, with the run
 * task's flags, is bench/daemon_cost_bench.ts's figure).
 *
 *   deno run -A bench/tick_bench.ts [--procs 2000] [--ticks 20]
 *
 * Target: a steady tick costs less CPU than that ps run.
 */
import { parseArgs } from "node:util";
import { defaultConfig } from "../src/options.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { LinuxHost } from "../src/sys/linux_host.ts";
import { median } from "../src/core/stats.ts";
import { CLK_TCK, cpuMsOf, psCpuMs, statusKbOf } from "./support.ts";

const { values } = parseArgs({
  options: { procs: { type: "string", default: "2000" }, ticks: { type: "string", default: "20" } },
});
const PROCS = Number(values.procs);
const TICKS = Number(values.ticks);

/** This process's user+system CPU time in ms. */
const selfCpuMs = (): number => cpuMsOf("self") ?? NaN;
const rssMb = (): number => (statusKbOf("self", "VmRSS") ?? NaN) / 1024;

/** A temporary directory, removed when the scope ends (after the daemon's undo). */
async function tempDir(prefix: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

// N idle processes, in one process group so they all go at the end.
const sleepers = new Deno.Command("bash", {
  args: ["-c", `for i in $(seq ${PROCS}); do sleep 3600 & done; wait`],
  stdout: "null",
  stderr: "null",
}).spawn();
try {
  await new Promise((r) => setTimeout(r, 500 + PROCS));
  // A temporary state dir and --keep-inherit: the bench reads the real
  // processes but must not take over a running waspd's (owned.json), prune
  // the operator's pins, or turn /proc/mitosis/inherit off. Each tick still
  // reads its pins file there, as the real daemon does in /run/waspd.
  await using stateDir = await tempDir("waspd-bench-");
  const host = await LinuxHost.open({
    procRoot: "/proc",
    sysRoot: "/sys",
    stateDir: stateDir.path,
  });
  await using daemon = await Daemon.open(host, {
    ...defaultConfig(),
    ptlIntervalMs: 3_600_000,
    keepInherit: true,
  });
  await daemon.tick();
  await daemon.ptlIdle(); // the one PTL measurement is not part of a tick
  await daemon.tick();

  const tickCpu: number[] = [];
  let tracked = 0;
  for (let i = 0; i < TICKS; i++) {
    const before = selfCpuMs();
    const snapshot = await daemon.tick();
    tickCpu.push(selfCpuMs() - before);
    tracked = snapshot.processes.length;
  }
  const ps: number[] = [];
  let psLines = 0;
  for (let i = 0; i < 5; i++) {
    const r = await psCpuMs();
    ps.push(r.cpuMs);
    psLines = r.lines;
  }
  const tickMs = median(tickCpu);
  const psMs = median(ps);
  console.log(`processes: ${psLines} in ps, ${tracked} tracked by waspd (${PROCS} started)`);
  console.log(`counters: ${host.counters.status().available ? "hardware" : "unavailable here"}`);
  console.log(
    `CPU per steady tick: ${tickMs.toFixed(1)} ms (median of ${TICKS}; ` +
      `resolution ${1000 / CLK_TCK} ms per reading)`,
  );
  console.log(`CPU per ps -e run:   ${psMs.toFixed(1)} ms (median of 5)`);
  console.log(`ratio tick / ps:     ${(tickMs / psMs).toFixed(2)}  (target < 1)`);
  console.log(
    `steady RSS:          ${rssMb().toFixed(1)} MB  (this bench process at deno's default ` +
      `V8 flags; the daemon as users run it: bench/daemon_cost_bench.ts)`,
  );
} finally {
  // The sleepers first (while bash is still their parent), then bash.
  await new Deno.Command("pkill", { args: ["-KILL", "-P", String(sleepers.pid)] }).output();
  sleepers.kill("SIGKILL");
  await sleepers.status;
}
