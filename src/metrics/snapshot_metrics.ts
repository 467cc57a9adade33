/**
 * The metric families of one Snapshot plus the daemon's running totals, in
 * Prometheus conventions: base units (seconds), `_total` on counters, one
 * 0/1 series per state for enums. Pure: data in, families out.
 *
 * Label cardinality is bounded by design: nodes (at most 64 on --sim, the
 * machine's node count otherwise) for per-node and per-node-pair series, a
 * fixed set for kinds, results and statuses, and per-process series only for
 * the processes in play (see IN_PLAY), at most MAX_PROCESS_SERIES of them.
 */
import type { ProcessJson, Snapshot } from "../core/snapshot.ts";
import type { ReplicationStatus } from "../core/types.ts";
import {
  type CountersView,
  type DaemonCounters,
  type ProcessTotals,
  processTotalsKey,
  TICK_BUCKETS_S,
} from "./daemon_counters.ts";
import { type Family, renderExposition, type Sample } from "./exposition.ts";

const STATUSES: readonly ReplicationStatus[] = [
  "idle",
  "watch",
  "candidate",
  "active",
  "would-enable",
  "pinned-on",
  "pinned-off",
  "stuck",
  "n/a",
];

/** waspd_process_status's value for each status: its place in STATUSES, fixed. */
export const STATUS_CODE: Readonly<Record<ReplicationStatus, number>> = Object.fromEntries(
  STATUSES.map((status, i) => [status, i]),
) as Record<ReplicationStatus, number>;

function statusCodesHelp(): string {
  return STATUSES.map((status, i) => `${i} ${status}`).join(", ");
}

/** Statuses whose processes get per-process series: every one a decision is about. */
export const IN_PLAY: ReadonlySet<ReplicationStatus> = new Set(
  STATUSES.filter((s) => s !== "idle" && s !== "n/a"),
);

/** At most this many processes get per-process series (highest MAR first). */
export const MAX_PROCESS_SERIES = 100;

export interface BuildInfo {
  version: string;
  deno: string;
}

const bool = (b: boolean): number => (b ? 1 : 0);
const one = (value: number | null | undefined): Sample[] =>
  value === null || value === undefined ? [] : [{ value }];

/** The processes that get per-process series, in a stable order. */
export function processesInPlay(processes: readonly ProcessJson[]): ProcessJson[] {
  return processes
    .filter((p) => IN_PLAY.has(p.status))
    .sort((a, b) => (b.mar ?? -1) - (a.mar ?? -1) || a.pid - b.pid)
    .slice(0, MAX_PROCESS_SERIES);
}

/** comm is untrusted: control bytes shown as JSON escapes, as the event log shows them. */
function commLabel(name: string): string {
  return JSON.stringify(name).slice(1, -1);
}

/**
 * Count this snapshot into `counters` and return the exposition text that
 * describes it: rendered once per tick, so a request is a copy of finished bytes.
 */
export function snapshotExposition(
  s: Snapshot,
  counters: DaemonCounters,
  build: BuildInfo,
): string {
  counters.observe(s);
  return renderExposition(snapshotFamilies(s, counters.view(), build));
}

export function snapshotFamilies(
  s: Snapshot,
  counters: CountersView,
  build: BuildInfo,
): Family[] {
  const d = s.daemon;
  const mode = s.capabilities.mode;
  const ptl = s.ptl;
  const inPlay = processesInPlay(s.processes);
  // pid and comm only: a label that changes (the status) would start a new series each time.
  const procLabels = (p: ProcessJson) => ({ pid: p.pid, comm: commLabel(p.name) });
  const cellSamples = (f: (r: number, c: number) => number | null): Sample[] =>
    ptl === null ? [] : ptl.rows.flatMap((row, r) =>
      ptl.cols.flatMap((col, c) => {
        const v = f(r, c);
        return v === null ? [] : [{ labels: { cpu_node: row, mem_node: col }, value: v }];
      })
    );
  const tick = counters.tick;

  return [
    {
      name: "waspd_build_info",
      type: "gauge",
      help: "Always 1; the labels say which waspd and Deno run, and whether the host is simulated.",
      samples: [{
        labels: { version: build.version, deno: build.deno, simulated: String(s.simulated) },
        value: 1,
      }],
    },
    {
      name: "waspd_mode",
      type: "gauge",
      help: "1 for the mode waspd runs in: enforcing (writes to the kernel) or advisory.",
      samples: (["enforcing", "advisory"] as const).map((m) => ({
        labels: { mode: m },
        value: bool(m === mode),
      })),
    },
    {
      name: "waspd_counters_available",
      type: "gauge",
      help: "1 when hardware performance counters can be read, else 0.",
      samples: [{ value: bool(s.capabilities.perf.hardware) }],
    },
    {
      name: "waspd_signals_info",
      type: "gauge",
      help: "Always 1; kind says what drives the process signals: hardware (PMU) or software " +
        "(task-clock and page faults, --signals software: not memory signals).",
      samples: [{ labels: { kind: s.capabilities.perf.signals }, value: 1 }],
    },
    {
      name: "waspd_mitosis_available",
      type: "gauge",
      help: "1 when the kernel has Mitosis page-table replication, else 0.",
      samples: [{ value: bool(s.capabilities.mitosis.present) }],
    },
    {
      name: "waspd_ticks_total",
      type: "counter",
      help: "Sample-decide-act rounds since waspd started.",
      samples: one(d?.tick),
    },
    {
      name: "waspd_update_interval_seconds",
      type: "gauge",
      help: "The interval between ticks waspd aims for.",
      samples: one(d === null ? null : d.update_ms / 1000),
    },
    {
      name: "waspd_processes_tracked",
      type: "gauge",
      help: "Processes waspd samples and decides for.",
      samples: one(d?.tracked),
    },
    {
      name: "waspd_processes_replicated",
      type: "gauge",
      help:
        "Tracked processes with page tables replicated (or that advisory mode would replicate).",
      samples: one(d?.replicated),
    },
    {
      name: "waspd_processes_stuck",
      type: "gauge",
      help:
        "Processes whose replication call overran its deadline; retried with backoff once they run.",
      samples: [{ value: s.processes.filter((p) => p.status === "stuck").length }],
    },
    {
      name: "waspd_processes",
      type: "gauge",
      help: "Tracked processes by replication status.",
      samples: STATUSES.map((status) => ({
        labels: { status },
        value: s.processes.filter((p) => p.status === status).length,
      })),
    },
    {
      name: "waspd_ptl_latency_seconds",
      type: "gauge",
      help: "Median page-table-lookup latency from CPUs of cpu_node to memory of mem_node.",
      samples: cellSamples((r, c) => {
        const ns = ptl?.latency_ns[r]?.[c];
        return ns === null || ns === undefined ? null : ns / 1e9;
      }),
    },
    {
      name: "waspd_ptl_age_seconds",
      type: "gauge",
      help: "Time since the last PTL latency measurement finished.",
      samples: one(ptl === null ? null : ptl.age_ms / 1000),
    },
    {
      name: "waspd_ptl_duration_seconds",
      type: "gauge",
      help: "How long the last PTL latency measurement took.",
      samples: one(ptl === null ? null : ptl.duration_ms / 1000),
    },
    {
      name: "waspd_ptl_interval_seconds",
      type: "gauge",
      help: "The PTL re-measurement interval waspd is configured with.",
      samples: one(d === null ? null : d.ptl_interval_ms / 1000),
    },
    {
      name: "waspd_steering_replica_node",
      type: "gauge",
      help: "The node whose page-table replica the CPUs of node use.",
      samples: (s.steering?.choices ?? []).map((c) => ({
        labels: { node: c.node },
        value: c.replica,
      })),
    },
    {
      name: "waspd_pt_cache_pages",
      type: "gauge",
      help: "Pages in the Mitosis page-table cache of node.",
      samples: (s.mitosis?.cache ?? []).map((c) => ({ labels: { node: c.node }, value: c.cached })),
    },
    {
      name: "waspd_process_status",
      type: "gauge",
      help: `Replication status of a process in play, as a number: ${statusCodesHelp()}.`,
      samples: inPlay.map((p) => ({ labels: procLabels(p), value: STATUS_CODE[p.status] })),
    },
    ...signalFamilies(inPlay, counters, procLabels),
    ...costFamilies(s, inPlay, procLabels),
    {
      name: "waspd_actions_total",
      type: "counter",
      help: "Kernel calls waspd made, by kind and result (ok, error, stuck, skipped).",
      samples: [...counters.actions].map(([key, value]) => {
        const [kind = "", result = ""] = key.split("/");
        return { labels: { kind, result }, value };
      }),
    },
    {
      name: "waspd_events_total",
      type: "counter",
      help: "Events logged, by kind.",
      samples: [...counters.events].map(([kind, value]) => ({ labels: { kind }, value })),
    },
    {
      name: "waspd_output_dropped_lines_total",
      type: "counter",
      help:
        "Lines of --json or --headless output dropped because the stream's reader did not read.",
      samples: (["stdout", "stderr"] as const).map((stream) => ({
        labels: { stream },
        value: counters.outputDropped[stream],
      })),
    },
    {
      name: "waspd_tick_duration_seconds",
      type: "histogram",
      help: "Time one tick (sample, decide, act, compose the snapshot) took.",
      samples: tick.count === 0 ? [] : [
        ...TICK_BUCKETS_S.map((le, i) => ({
          suffix: "_bucket",
          labels: { le },
          value: tick.buckets[i] ?? 0,
        })),
        { suffix: "_bucket", labels: { le: "+Inf" }, value: tick.count },
        { suffix: "_sum", value: tick.sum },
        { suffix: "_count", value: tick.count },
      ],
    },
  ];
}

/**
 * What a process in play does to memory: counts since waspd first sampled it
 * (so `rate()` over any window gives loads/s and walks/s), and the rates of
 * the last tick, kept as gauges because they are the figures the policy
 * compared with its thresholds for the decision now shown.
 */
function signalFamilies(
  inPlay: readonly ProcessJson[],
  counters: CountersView,
  procLabels: (p: ProcessJson) => Record<string, string | number>,
): Family[] {
  const total = (value: (t: ProcessTotals) => number): Sample[] =>
    inPlay.flatMap((p) => {
      const t = counters.processes.get(processTotalsKey(p));
      return t === undefined ? [] : [{ labels: procLabels(p), value: value(t) }];
    });
  const software = ' With signals="software" (waspd_signals_info),';
  return [
    {
      name: "waspd_process_loads_total",
      type: "counter",
      help: "Memory loads of a process in play since waspd first sampled it; rate() gives its " +
        `MAR.${software} CPU ns of task-clock instead.`,
      samples: total((t) => t.loads),
    },
    {
      name: "waspd_process_page_walks_total",
      type: "counter",
      help: "Page walks (dTLB misses) of a process in play since waspd first sampled it." +
        `${software} page faults instead.`,
      samples: total((t) => t.walks),
    },
    {
      name: "waspd_process_minor_faults_total",
      type: "counter",
      help: "Minor page faults of a process in play since waspd first sampled it.",
      samples: total((t) => t.minorFaults),
    },
    {
      name: "waspd_process_major_faults_total",
      type: "counter",
      help: "Major page faults of a process in play since waspd first sampled it.",
      samples: total((t) => t.majorFaults),
    },
    {
      name: "waspd_process_memory_accesses_per_second",
      type: "gauge",
      help: "MAR (loads/s) over the last tick, the figure the policy compared with --thr-mar; " +
        `for graphs use rate(waspd_process_loads_total[1m]).${software} CPU ns per second.`,
      samples: inPlay.flatMap((p) =>
        p.mar === null ? [] : [{ labels: procLabels(p), value: p.mar }]
      ),
    },
    {
      name: "waspd_process_dtlb_walk_ratio",
      type: "gauge",
      help: "Page walks per load over the last tick, the figure the policy compared with " +
        "--thr-dtlb; for graphs divide the rate()s of the two counters." +
        `${software} page faults per CPU ns.`,
      samples: inPlay.flatMap((p) =>
        p.dtlb_ratio === null ? [] : [{ labels: procLabels(p), value: p.dtlb_ratio }]
      ),
    },
  ];
}

/**
 * What replication costs and does: replica memory (total, cap, per process),
 * page-table sizes, walk cycles per load, and the damping of re-enables. A
 * damped process may be idle (out of play): those with damping get their
 * own bounded series.
 */
function costFamilies(
  s: Snapshot,
  inPlay: readonly ProcessJson[],
  procLabels: (p: ProcessJson) => Record<string, string | number>,
): Family[] {
  const d = s.daemon;
  const kib = (kb: number) => kb * 1024;
  const perProcess = (list: readonly ProcessJson[], value: (p: ProcessJson) => number | null) =>
    list.flatMap((p) => {
      const v = value(p);
      return v === null ? [] : [{ labels: procLabels(p), value: v }];
    });
  const damped = s.processes.filter((p) => p.damping !== null)
    .sort((a, b) => a.pid - b.pid)
    .slice(0, MAX_PROCESS_SERIES);
  return [
    {
      name: "waspd_replica_memory_bytes",
      type: "gauge",
      help: "Memory all page-table replicas take: page tables x (replica nodes - 1), summed.",
      samples: one(d === null ? null : kib(d.replica_kb_total)),
    },
    {
      name: "waspd_replica_memory_cap_bytes",
      type: "gauge",
      help: "Cap on the replicas' memory (--replica-cap); absent when there is none.",
      samples: one(d?.replica_cap_kb === null || d === null ? null : kib(d.replica_cap_kb)),
    },
    {
      name: "waspd_min_page_tables_bytes",
      type: "gauge",
      help: "Page tables smaller than this are never replicated (--min-pte).",
      samples: one(d === null ? null : kib(d.min_pte_kb)),
    },
    {
      name: "waspd_damp_max_seconds",
      type: "gauge",
      help: "The longest wait damping puts before a re-enable (--damp-max); 0 = no damping.",
      samples: one(d === null ? null : d.damp_max_ms / 1000),
    },
    {
      name: "waspd_process_page_tables_bytes",
      type: "gauge",
      help: "Page-table size (VmPTE) of a process in play.",
      samples: perProcess(inPlay, (p) => p.pte_kb === null ? null : kib(p.pte_kb)),
    },
    {
      name: "waspd_process_replica_memory_bytes",
      type: "gauge",
      help: "Memory the page-table replicas of a process in play take.",
      samples: perProcess(inPlay, (p) => p.replica_kb === null ? null : kib(p.replica_kb)),
    },
    {
      name: "waspd_process_walk_cycles_per_load",
      type: "gauge",
      help: "Page-walk cycles per load of a process in play, where the CPU can count them.",
      samples: perProcess(inPlay, (p) => p.walk_cycles_per_load),
    },
    {
      name: "waspd_process_damping_flips",
      type: "gauge",
      help: "Quick flips remembered for a process (a disable soon after its enable).",
      samples: perProcess(damped, (p) => p.damping?.flips ?? null),
    },
    {
      name: "waspd_process_reenable_hold_seconds",
      type: "gauge",
      help:
        "How long the signals must hold before a process's next enable (the hysteresis when not damped).",
      samples: perProcess(damped, (p) => p.damping === null ? null : p.damping.hold_ms / 1000),
    },
    {
      name: "waspd_process_no_gain",
      type: "gauge",
      help: "1 when replication was judged to bring a process no gain (re-enable held).",
      samples: perProcess(damped, (p) => p.damping === null ? null : bool(p.damping.no_gain)),
    },
  ];
}
