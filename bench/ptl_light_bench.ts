/**
 * Benchmark (not a test): the daemon's light PTL refresh against the full
 * chase of `waspd probe`, for every cell this host has. Trials alternate
 * between the methods so drift of the machine hits all of them alike.
 *
 * - full:  LinuxProber (4 x LLC buffer, mapped and faulted per cell), workers kept;
 * - flush: LightProber, kept 2 MiB ring, lines flushed (clflush loop) before each chase;
 * - ring:  LightProber without flushing, same ring (what the fallback sees on this LLC),
 *          counted only after one whole cycle of the ring: the lines were then last
 *          touched a cycle ago, which on a ring smaller than the LLC means in cache.
 *
 * Prints per cell: the median figure of each method, light / full, the spread
 * of the light figure from refresh to refresh, and the CPU cost per refresh.
 *
 *   deno run -A bench/ptl_light_bench.ts [--trials 5] [--refreshes 20] [--groups 2]
 */
import { parseArgs } from "node:util";
import { readTopology } from "../src/sys/topology.ts";
import { LinuxProber } from "../probe/prober.ts";
import { DEFAULT_GROUPS_PER_CELL, LightProber } from "../probe/light_prober.ts";
import type { PtlCell } from "../src/core/types.ts";
import { median } from "../src/core/stats.ts";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "5" },
    refreshes: { type: "string", default: "20" },
    groups: { type: "string", default: String(DEFAULT_GROUPS_PER_CELL) },
    "memory-mb": { type: "string", default: "16" },
  },
});
const TRIALS = Number(values.trials);
const REFRESHES = Number(values.refreshes);
const GROUPS = Number(values.groups);
const MEMORY = Number(values["memory-mb"]) * 1024 * 1024;

const key = (c: PtlCell) => `${c.row}->${c.col}`;

const topology = await readTopology();
const cells: PtlCell[] = [];
for (const r of topology.nodes.filter((n) => n.cpus.length > 0)) {
  for (const c of topology.nodes.filter((n) => (n.memTotalKb ?? 0) > 0)) {
    cells.push({ row: r.id, col: c.id });
  }
}
console.log(
  `host: ${topology.nodes.length} node(s), LLC ${
    ((topology.llcBytes ?? NaN) / 1048576).toFixed(0)
  } MiB; ${cells.length} cell(s); ${TRIALS} trials; light: ${REFRESHES} refreshes of ${GROUPS} ` +
    `group(s) per cell per trial`,
);

const full = new LinuxProber({ keepWorkers: true });
const flush = new LightProber({ method: "flush", groupsPerCell: GROUPS });
const ring = new LightProber({ method: "ring", groupsPerCell: GROUPS });
type Method = "full" | "flush" | "ring";
const figures = new Map<string, Record<Method, number[]>>();
const refreshSpread = new Map<string, Record<"flush" | "ring", number[]>>();
const cost: Record<"flush" | "ring", number[]> = { flush: [], ring: [] };
const fullMs: number[] = [];
let methodNote = "";
let flushStatus: unknown = null;
for (const c of cells) {
  figures.set(key(c), { full: [], flush: [], ring: [] });
  refreshSpread.set(key(c), { flush: [], ring: [] });
}

/** Refreshes of one cycle through the ring (its groups of 256 KiB), with margin. */
const CYCLE = Math.ceil((MEMORY / (256 * 1024)) / GROUPS);

async function light(p: LightProber, name: "flush" | "ring"): Promise<void> {
  const per = new Map<string, number[]>();
  const skip = name === "ring" ? CYCLE : 0;
  for (let i = 0; i < REFRESHES + skip; i++) {
    const r = await p.refresh(topology, cells, { memoryBytes: MEMORY });
    if (i > 0) cost[name].push(r.costMs / cells.length); // the first one includes JIT warm-up
    if (i < skip) continue;
    if (name === "flush") methodNote = JSON.stringify(r.method);
    for (const f of r.figures) {
      if (f.latencyNs === null) throw new Error(`${name} ${key(f)}: ${f.error}`);
      per.set(key(f), [...(per.get(key(f)) ?? []), f.latencyNs]);
    }
  }
  for (const [k, xs] of per) {
    const m = median(xs);
    figures.get(k)![name].push(m);
    refreshSpread.get(k)![name].push((Math.max(...xs) - Math.min(...xs)) / m);
  }
}

try {
  for (let t = 0; t < TRIALS; t++) {
    const d = await full.measureDetailed(topology);
    if (t > 0) fullMs.push(d.measurement.durationMs);
    d.measurement.rows.forEach((row, ri) =>
      d.measurement.cols.forEach((col, ci) => {
        const ns = d.measurement.latencyNs[ri]?.[ci];
        if (ns == null) throw new Error(`full ${row}->${col}: ${d.measurement.errors[ri]?.[ci]}`);
        figures.get(key({ row, col }))!.full.push(ns);
      })
    );
    await light(flush, "flush");
    await light(ring, "ring");
  }
} finally {
  full.close();
  flushStatus = flush.flushStatus;
  flush.close();
  ring.close();
}

console.log(`flush method: ${methodNote}`);
console.log(`flush check (one group, flushed vs just chased): ${JSON.stringify(flushStatus)}`);
for (const c of cells) {
  const f = figures.get(key(c))!;
  const s = refreshSpread.get(key(c))!;
  const fm = median(f.full);
  console.log(
    `cell ${key(c)}: full ${fm.toFixed(1)} ns | flush ${median(f.flush).toFixed(1)} ns ` +
      `(x${(median(f.flush) / fm).toFixed(3)}, refresh-to-refresh spread ${
        (median(s.flush) * 100).toFixed(0)
      } %) | ring ${median(f.ring).toFixed(1)} ns (x${(median(f.ring) / fm).toFixed(3)})`,
  );
  console.log(
    `  per trial: full [${f.full.map((x) => x.toFixed(0)).join(" ")}] flush [${
      f.flush.map((x) => x.toFixed(0)).join(" ")
    }]`,
  );
}
console.log(
  `CPU per cell per refresh (one-time ring setup excluded): flush ${
    median(cost.flush).toFixed(3)
  } ms, ring ${median(cost.ring).toFixed(3)} ms; full matrix ${median(fullMs).toFixed(0)} ms wall`,
);
