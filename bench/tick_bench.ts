/**
 * Benchmark (not a test): the cost of one daemon tick on the real host with
 * N real idle processes (started here), against `ps -e -o pid,stat,rss,comm`
 * reading the same processes in the same run. Prints CPU ms per steady-state
 * tick, the ratio to ps, and the daemon's steady RSS.
 *
 *   deno run -A bench/tick_bench.ts [--procs 2000] [--ticks 20]
 *
 * Target: a steady tick costs less CPU than that ps run; RSS under 100 MB.
 */
import { parseArgs } from "node:util";
import { defaultConfig } from "../src/config.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { LinuxHost } from "../src/sys/linux_host.ts";

const { values } = parseArgs({
  options: { procs: { type: "string", default: "2000" }, ticks: { type: "string", default: "20" } },
});
const PROCS = Number(values.procs);
const TICKS = Number(values.ticks);
const CLK_TCK = 100;

/** This process's user+system CPU time in ms (/proc/self/stat fields 14, 15). */
function selfCpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLK_TCK;
}

function rssMb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** CPU ms (user+sys) of one `ps -e -o pid,stat,rss,comm`, measured by bash's `times`. */
async function psCpuMs(): Promise<{ cpuMs: number; lines: number }> {
  const out = await new Deno.Command("bash", {
    args: ["-c", "ps -e -o pid,stat,rss,comm > /tmp/waspd-bench-ps.txt; times"],
    stdout: "piped",
  }).output();
  // `times` prints shell then children: "0m0.002s 0m0.001s\n0m0.040s 0m0.020s".
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  const [user, sys] = (lines.at(-1) ?? "").split(" ").map((t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return m ? Number(m[1]) * 60_000 + Number(m[2]) * 1000 : NaN;
  });
  const psLines = (await Deno.readTextFile("/tmp/waspd-bench-ps.txt")).split("\n").length - 1;
  return { cpuMs: (user ?? NaN) + (sys ?? NaN), lines: psLines };
}

/** A temporary directory, removed when the scope ends (after the daemon's undo). */
async function tempDir(prefix: string): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

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
  console.log(`steady RSS:          ${rssMb().toFixed(1)} MB  (target < 100 MB)`);
} finally {
  // The sleepers first (while bash is still their parent), then bash.
  await new Deno.Command("pkill", { args: ["-KILL", "-P", String(sleepers.pid)] }).output();
  sleepers.kill("SIGKILL");
  await sleepers.status;
}
