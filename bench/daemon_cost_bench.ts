/**
 * Benchmark (not a test): what the daemon costs as users run it. waspd is
 * started exactly as `deno task run --json` starts it (the deno flags are read
 * from deno.json's `run` task), at its defaults, with N idle processes, for a
 * fixed wall time. The whole process tree is measured: waspd (every thread and
 * Worker), its live descendants (the prctl helper), and its reaped children
 * (cutime+cstime):
 *
 * - start-up: wall time and tree CPU from the spawn to the first snapshot;
 * - CPU per update interval: tree CPU over the run, divided by the update
 *   intervals elapsed, against the CPU of one `ps -e -o pid,stat,rss,comm`
 *   run in the same run (median of 5 runs); and per second of wall time;
 * - RSS: median of the tree's VmRSS sampled every 250 ms, and waspd's own
 *   peak (VmHWM);
 * - the share of ticks whose JSON snapshot says a PTL measurement was in
 *   flight (`daemon.ptl_measuring`).
 *
 *   deno run -A bench/daemon_cost_bench.ts [--procs 2000] [--seconds 60] [-- waspd flags]
 *
 * Targets (issue 11): ratio <= 0.5 (moonshot 0.25), RSS median < 100 MB, peak < 200 MB.
 */
import { parseArgs } from "node:util";
import { median } from "../src/core/stats.ts";
import { CLK_TCK, psCpuMs, statusKbOf, treeCpuMs, treeRssKb } from "./support.ts";

const { values, positionals } = parseArgs({
  options: {
    procs: { type: "string", default: "2000" },
    seconds: { type: "string", default: "60" },
  },
  allowPositionals: true,
});
const PROCS = Number(values.procs);
const SECONDS = Number(values.seconds);
const ROOT = new URL("../", import.meta.url).pathname;

/** The deno arguments of deno.json's `run` task ("deno run -A ... main.ts"), main.ts resolved. */
function runTaskArgs(): string[] {
  const json = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)) as {
    tasks: Record<string, string>;
  };
  const words = (json.tasks["run"] ?? "").trim().split(/\s+/);
  if (words[0] !== "deno") throw new Error(`unexpected run task: ${json.tasks["run"]}`);
  return words.slice(1);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The idle processes: `setsid` makes bash the leader of a new process group,
 * so one kill of the group takes every sleeper with it. The sleepers also end
 * by themselves after 5 minutes, should this script be killed outright.
 */
const sleepers = new Deno.Command("setsid", {
  args: ["bash", "-c", `for i in $(seq ${PROCS}); do sleep 300 & done; wait`],
  stdout: "null",
  stderr: "null",
}).spawn();
let waspd: Deno.ChildProcess | null = null;
const cleanup = () => {
  try {
    Deno.kill(-sleepers.pid, "SIGKILL");
  } catch { /* already gone */ }
  try {
    waspd?.kill("SIGKILL");
  } catch { /* already gone */ }
};
const onSignal = () => {
  cleanup();
  Deno.exit(130);
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

try {
  await sleep(500 + PROCS);
  const args = [...runTaskArgs(), "--json", ...positionals];
  console.log(`waspd: deno ${args.join(" ")}  (cwd ${ROOT})`);
  const spawnedAt = performance.now();
  waspd = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pid = waspd.pid;
  const stderrText = new Response(waspd.stderr).text();

  // Snapshots: one JSON line per tick.
  let ticks = 0;
  let measuring = 0;
  let updateMs = NaN;
  let tracked = 0;
  let firstAt: number | null = null;
  let cpuAtFirst: number | null = null;
  const ptlDurations: number[] = [];
  let lastPtlStart: string | null = null;
  let ptlNote: string | null = null;
  const reading = (async () => {
    const lines = waspd.stdout.pipeThrough(new TextDecoderStream());
    let buffered = "";
    for await (const chunk of lines) {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let s: Record<string, unknown>;
        try {
          s = JSON.parse(line);
        } catch {
          continue;
        }
        const d = s["daemon"] as Record<string, unknown> | null | undefined;
        if (d === null || d === undefined) continue;
        if (firstAt === null) {
          firstAt = performance.now();
          cpuAtFirst = treeCpuMs(pid);
        }
        ticks++;
        if (d["ptl_measuring"] === true) measuring++;
        updateMs = Number(d["update_ms"]);
        tracked = Array.isArray(s["processes"]) ? s["processes"].length : 0;
        const ptl = s["ptl"] as Record<string, unknown> | null;
        if (ptl !== null && ptl["started_at"] !== lastPtlStart) {
          lastPtlStart = ptl["started_at"] as string;
          ptlDurations.push(Number(ptl["duration_ms"]));
        }
        const method = d["ptl_method"];
        if (method !== undefined) ptlNote = JSON.stringify(method);
      }
    }
  })();

  while (firstAt === null) {
    await sleep(50);
    if (treeCpuMs(pid) === null) throw new Error(`waspd exited early:\n${await stderrText}`);
  }
  const rss: number[] = [];
  const ps: number[] = [];
  let psLines = 0;
  const t0 = firstAt;
  const psAt = [0.2, 0.35, 0.5, 0.65, 0.8].map((f) => t0 + f * SECONDS * 1000);
  while (performance.now() - t0 < SECONDS * 1000) {
    const kb = treeRssKb(pid);
    if (kb !== null) rss.push(kb / 1024);
    if (psAt.length > 0 && performance.now() >= psAt[0]!) {
      psAt.shift();
      const r = await psCpuMs();
      ps.push(r.cpuMs);
      psLines = r.lines;
    }
    await sleep(250);
  }
  const wallMs = performance.now() - t0;
  const cpuEnd = treeCpuMs(pid);
  const hwmKb = statusKbOf(pid, "VmHWM");
  const ticksSeen = ticks;
  const measuringSeen = measuring;
  waspd.kill("SIGTERM");
  await waspd.status;
  await reading;
  const stderr = await stderrText;

  const intervals = wallMs / updateMs;
  const cpuMs = (cpuEnd ?? NaN) - (cpuAtFirst ?? NaN);
  const perInterval = cpuMs / intervals;
  const psMs = median(ps);
  console.log(`processes: ${psLines} in ps, ${tracked} tracked by waspd (${PROCS} started)`);
  console.log(
    `run: ${
      (wallMs / 1000).toFixed(1)
    } s from the first snapshot, update interval ${updateMs} ms, ` +
      `${ticksSeen} snapshots`,
  );
  console.log(
    `waspd CPU: ${cpuMs.toFixed(0)} ms in ${intervals.toFixed(1)} intervals = ` +
      `${perInterval.toFixed(1)} ms per interval (${(perInterval / updateMs * 100).toFixed(2)} % ` +
      `of a core; resolution ${1000 / CLK_TCK} ms per reading)`,
  );
  console.log(
    `CPU per second (whole tree): ${(cpuMs / wallMs * 1000).toFixed(1)} ms/s`,
  );
  console.log(
    `start-up to the first snapshot: ${((firstAt ?? NaN) - spawnedAt).toFixed(0)} ms wall, ` +
      `${(cpuAtFirst ?? NaN).toFixed(0)} ms CPU (whole tree)`,
  );
  console.log(`ps -e run CPU: ${psMs.toFixed(1)} ms (median of ${ps.length})`);
  console.log(
    `ratio waspd per interval / ps:  ${
      (perInterval / psMs).toFixed(2)
    }  (target <= 0.5, moonshot 0.25)`,
  );
  console.log(
    `RSS median (whole tree): ${median(rss).toFixed(1)} MB (${rss.length} samples; ` +
      `target < 100 MB), waspd's peak (VmHWM): ${
        ((hwmKb ?? NaN) / 1024).toFixed(1)
      } MB (target < 200 MB)`,
  );
  console.log(
    `ticks with a PTL measurement in flight: ${measuringSeen}/${ticksSeen} = ` +
      `${(measuringSeen / ticksSeen * 100).toFixed(1)} %`,
  );
  console.log(
    `PTL measurements seen: ${ptlDurations.length}, median duration ${
      median(ptlDurations).toFixed(1)
    } ms`,
  );
  if (ptlNote !== null) console.log(`PTL method (last snapshot): ${ptlNote}`);
  const errLines = stderr.trim().split("\n").filter((l) => l !== "");
  if (errLines.length > 0) console.log(`waspd stderr (last 3): ${errLines.slice(-3).join(" | ")}`);
} finally {
  cleanup();
  await sleepers.status;
}
