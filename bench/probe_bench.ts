/**
 * Benchmark of the PTL probe (not a test: it prints figures, asserts nothing).
 *
 * 1. Ours ÷ reference: the probe's chase against bench/chase_ref.c (compiled
 *    here with the system gcc), same buffer size, same single cycle (the C
 *    program reads the order this script builds with probe/chase.ts), same
 *    placement and the same CPU. Trials alternate between the two so drift
 *    of the machine hits both alike. Target 0.97-1.03.
 * 2. Round-to-round spread of our cells. Target < 3%.
 * 3. Wall time of a full N × N matrix after the first one.
 * 4. Peak extra RSS of a measurement (VmHWM after minus VmRSS before, with the
 *    high-water mark reset through /proc/self/clear_refs).
 *
 * usage: deno run -A bench/probe_bench.ts [--trials N] [--buffer-mb N] [--loads N] [--rounds N]
 */
import { parseArgs } from "node:util";
import { readTopology } from "../src/sys/topology.ts";
import type { Topology } from "../src/core/types.ts";
import { buildChaseOrder, summarizeRounds } from "../probe/chase.ts";
import { pickCpu } from "../probe/plan.ts";
import {
  DEFAULT_LOADS_PER_ROUND,
  DEFAULT_ROUNDS,
  type DetailedMeasurement,
  LinuxProber,
} from "../probe/prober.ts";
import type { ChaseParams } from "../probe/protocol.ts";
import { median } from "../src/core/stats.ts";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "5" },
    "buffer-mb": { type: "string" },
    loads: { type: "string", default: String(DEFAULT_LOADS_PER_ROUND) },
    rounds: { type: "string", default: String(DEFAULT_ROUNDS) },
    matrices: { type: "string", default: "4" },
  },
});
const trials = Number(values.trials);
const loadsPerRound = Number(values.loads);
const rounds = Number(values.rounds);
const MIB = 1024 * 1024;

function statusKb(field: string): number {
  const text = Deno.readTextFileSync("/proc/self/status");
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
  if (match === null) throw new Error(`/proc/self/status has no ${field}`);
  return Number(match[1]);
}

async function compileReference(dir: string): Promise<string> {
  const exe = `${dir}/chase_ref`;
  const src = new URL("./chase_ref.c", import.meta.url).pathname;
  const out = await new Deno.Command("gcc", { args: ["-O2", "-o", exe, src] }).output();
  if (!out.success) throw new Error(`gcc failed:\n${new TextDecoder().decode(out.stderr)}`);
  return exe;
}

async function runReference(
  exe: string,
  orderFile: string,
  p: ChaseParams,
  node: number,
  cpu: number,
): Promise<number[]> {
  const args = [
    orderFile,
    p.strideBytes,
    p.bufferBytes,
    node,
    cpu,
    p.warmupLoads,
    p.loadsPerRound,
    p.rounds,
  ]
    .map(String);
  const out = await new Deno.Command(exe, { args }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`chase_ref failed: ${new TextDecoder().decode(out.stderr)}`);
  const parsed = JSON.parse(text) as { rounds_ns: number[]; end_in_buffer: boolean };
  if (!parsed.end_in_buffer) throw new Error("chase_ref: chase left the buffer");
  return parsed.rounds_ns;
}

const topology = await readTopology();
const node = topology.nodes.find((n) => n.cpus.length > 0 && (n.memTotalKb ?? 0) > 0);
if (node === undefined) throw new Error("no node with both CPUs and memory");
const cpu = pickCpu(node, null);
if (cpu === null) throw new Error(`node ${node.id} has no CPU`);
const oneNode: Topology = { ...topology, nodes: [node] };
const prober = new LinuxProber({ loadsPerRound, rounds });
const bufferBytes = values["buffer-mb"] === undefined
  ? undefined
  : Number(values["buffer-mb"]) * MIB;
const probeOptions = bufferBytes === undefined ? {} : { bufferBytes };

const dir = await Deno.makeTempDir({ prefix: "waspd-bench-" });
try {
  const exe = await compileReference(dir);
  const orderFile = `${dir}/order.u32`;
  let orderWrittenFor = -1;
  const ours: number[] = [];
  const reference: number[] = [];
  const ourSpreads: number[] = [];
  const refSpreads: number[] = [];
  console.log(
    `node ${node.id}, cpu ${cpu}, LLC ${((topology.llcBytes ?? 0) / MIB).toFixed(0)} MiB, ` +
      `${trials} alternating trials of ${rounds} rounds x ${loadsPerRound} loads`,
  );
  for (let t = 0; t < trials; t++) {
    const d = await prober.measureDetailed(oneNode, probeOptions);
    const cell = d.replies[0]?.cells[0];
    if (cell === undefined || cell.error !== null) {
      throw new Error(`probe cell failed: ${cell?.error}`);
    }
    if (orderWrittenFor !== d.params.bufferBytes) {
      await Deno.writeFile(
        orderFile,
        new Uint8Array(buildChaseOrder(d.params, d.params.seed).buffer),
      );
      orderWrittenFor = d.params.bufferBytes;
    }
    const ref = await runReference(exe, orderFile, d.params, node.id, cpu);
    const refSummary = summarizeRounds(ref);
    ours.push(...cell.roundsNs);
    reference.push(...ref);
    ourSpreads.push(cell.spread ?? NaN);
    refSpreads.push(refSummary?.spread ?? NaN);
    console.log(
      `trial ${t + 1}: buffer ${(d.params.bufferBytes / MIB).toFixed(0)} MiB  ours ${
        cell.latencyNs!.toFixed(1)
      } ns (spread ${(cell.spread! * 100).toFixed(1)}%)  reference ${
        refSummary?.median.toFixed(1)
      } ns ` +
        `(spread ${((refSummary?.spread ?? NaN) * 100).toFixed(1)}%)  ratio ${
          (cell.latencyNs! / refSummary!.median).toFixed(3)
        }  pages verified ${cell.pagesVerified}  THP advice ${cell.hugePageAdvice}`,
    );
  }
  console.log(
    `ours / reference (median of all rounds): ${(median(ours) / median(reference)).toFixed(3)}  ` +
      `[${median(ours).toFixed(1)} ns / ${median(reference).toFixed(1)} ns]  target 0.97-1.03`,
  );
  // The fastest round of each side is the one least disturbed by other
  // processes: on a shared machine it compares the chases more fairly.
  console.log(
    `ours / reference (fastest round):          ${
      (Math.min(...ours) / Math.min(...reference)).toFixed(3)
    }  ` +
      `[${Math.min(...ours).toFixed(1)} ns / ${Math.min(...reference).toFixed(1)} ns]`,
  );
  console.log(
    `round-to-round spread, median over trials: ours ${(median(ourSpreads) * 100).toFixed(1)}%  ` +
      `reference ${(median(refSpreads) * 100).toFixed(1)}%  target < 3%`,
  );
  console.log(`load average while measuring: ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`);

  const n = topology.nodes.length;
  const matrices = Number(values.matrices);
  let peakExtraKb = 0;
  // Fresh workers per measurement (what `waspd probe` does) and kept workers
  // (what the daemon should do: no worker start, no order rebuild).
  for (const keepWorkers of [false, true]) {
    const matrixProber = new LinuxProber({ loadsPerRound, rounds, keepWorkers });
    const durations: number[] = [];
    let last: DetailedMeasurement | null = null;
    try {
      for (let i = 0; i < matrices; i++) {
        await Deno.writeTextFile("/proc/self/clear_refs", "5"); // reset VmHWM to VmRSS
        const rssBefore = statusKb("VmRSS");
        last = await matrixProber.measureDetailed(topology, probeOptions);
        peakExtraKb = Math.max(peakExtraKb, statusKb("VmHWM") - rssBefore);
        durations.push(last.measurement.durationMs);
      }
    } finally {
      matrixProber.close();
    }
    console.log(
      `full ${n}x${n} matrix wall time, ${keepWorkers ? "kept" : "fresh"} workers: first ${
        durations[0]?.toFixed(0)
      } ms, then ${durations.slice(1).map((d) => d.toFixed(0)).join(", ")} ms`,
    );
    if (last !== null) {
      const cells = last.replies.flatMap((r) => r.cells);
      const total = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
      const orderMs = total(last.replies.map((r) => r.orderMs));
      const setupMs = total(cells.map((c) => c.setupMs));
      const chaseMs = total(cells.map((c) => c.chaseMs));
      const rest = last.measurement.durationMs - orderMs - setupMs - chaseMs;
      console.log(
        `  last one: build order ${orderMs.toFixed(0)} ms, map+bind+fault+write+verify ${
          setupMs.toFixed(0)
        } ms, chase ${chaseMs.toFixed(0)} ms, worker start + messaging ${rest.toFixed(0)} ms`,
      );
    }
  }
  console.log(`probe peak extra RSS: ${(peakExtraKb / 1024).toFixed(1)} MiB`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
