/**
 * The Snapshot: the single state object every view renders (TUI, `--json`,
 * `waspd status`). Its shape is the JSON contract for scripts, documented in
 * README.md ("JSON schema"); keys are snake_case because they are that
 * contract. Add keys freely; never rename or change the meaning of one.
 *
 * Unknown numbers are `null`, never 0.
 */
import type {
  BudgetReport,
  MitosisDetection,
  MitosisState,
  PtlMeasurement,
  PtlMethod,
  ReplicationStatus,
  SignalKind,
  Steering,
  Topology,
} from "./types.ts";

export const SNAPSHOT_SCHEMA_VERSION = 1;

export interface NodeJson {
  id: number;
  cpus: number[];
  mem_total_kb: number | null;
  mem_free_kb: number | null;
  distances: number[];
}

export interface HostJson {
  hostname: string;
  kernel: string;
  nodes: NodeJson[];
  llc_bytes: number | null;
  cpu: {
    vendor: string | null;
    family: number | null;
    model: number | null;
    model_name: string | null;
    mhz: number | null;
  };
  five_level_paging: { cpu_flag: boolean; disabled_on_cmdline: boolean; active: boolean };
  warnings: string[];
}

export interface CapabilitiesJson {
  root: boolean;
  uid: number;
  perf: {
    /** Hardware (PMU) counters drive the signals: false in software mode. */
    hardware: boolean;
    /** Counters of the chosen kind (`signals`) can be read. */
    available: boolean;
    /** `--signals`: "software" means task-clock and page faults, not memory signals. */
    signals: SignalKind;
    /** What the numbers are in software mode; null for hardware signals. */
    signals_note: string | null;
    source: string | null;
    reason: string | null;
    paranoid: number | null;
    fd_budget: number;
    fd_used: number;
    /** The page-walk duration event counted, or null: walk cycles per load are unknown. */
    walk_cycles?: string | null;
    /** Why not, when walk_cycles is null. */
    walk_cycles_reason?: string | null;
  };
  mitosis: {
    present: boolean;
    variant: string | null;
    files: string[];
    reason: string | null;
  };
  /** "enforcing": waspd writes to the kernel; "advisory": it only says what it would do. */
  mode: "enforcing" | "advisory";
  advisory_reasons: string[];
}

export interface ProcessJson {
  pid: number;
  start_time: number;
  /** Raw comm (may hold control bytes: sanitize before display). */
  name: string;
  state: string;
  threads: number;
  rss_kb: number;
  /** Memory access rate, loads/s; null = unknown. */
  mar: number | null;
  /** Page walks per load; null = unknown. */
  dtlb_ratio: number | null;
  /** Share of time the counters actually ran (multiplexing), 0..1; null = no counters. */
  multiplex: number | null;
  minflt_per_s: number | null;
  majflt_per_s: number | null;
  counter_source: string | null;
  /** Replication as the kernel reports it (/proc/mitosis/active); null = unknown. */
  replicated: boolean | null;
  replica_nodes: number[] | null;
  /** replica_nodes as a prctl(100) mask (bit i = node i); null when replica_nodes is (or a node is past bit 52). */
  replica_mask: number | null;
  status: ReplicationStatus;
  reason: string;
  /** Time left before the hysteresis flips the decision, or null. */
  countdown_ms: number | null;
  pinned: "on" | "off" | null;
  /** Page-table size (VmPTE), KiB; null = unknown (not read yet, or not shown). */
  pte_kb: number | null;
  /** Memory its replicas take: pte_kb x (replica nodes - 1), KiB; 0 when off; null = unknown. */
  replica_kb: number | null;
  /** Page-walk cycles per load now; null = unknown (no walk-duration event). */
  walk_cycles_per_load: number | null;
  /** Walk cycles per load before its last enable, and since it; null = unknown. */
  walk_cycles_before: number | null;
  walk_cycles_after: number | null;
  /** Damping of its next enable; null when no flip is remembered. */
  damping: DampingJson | null;
}

export interface DampingJson {
  /** Quick flips remembered (a disable by the policy soon after its enable). */
  flips: number;
  /** How long the signals must hold before its next enable (the hysteresis when not damped). */
  hold_ms: number;
  /** The next enable waits longer than the hysteresis. */
  damped: boolean;
  /** Replication was judged to bring it no gain: no enable before `not_before`. */
  no_gain: boolean;
  /** Time left before an enable may happen at all (no-gain verdict), or null. */
  not_before_ms: number | null;
}

export interface DecisionJson {
  pid: number;
  start_time: number;
  name: string;
  status: ReplicationStatus;
  action: "enable" | "disable" | "none";
  reason: string;
  countdown_ms: number | null;
}

export interface EventJson {
  seq: number;
  time: string;
  kind: typeof EVENT_KINDS[number];
  pid: number | null;
  message: string;
  /** Set on the outcome of a kernel call waspd made (counted by the metrics). */
  action?: EventAction;
  /** "warning" marks an event that is not an error but needs a look (journald priority 4). */
  severity?: "warning";
}

/** The kernel calls waspd makes, by what they change. */
export const ACTION_KINDS = ["enable", "disable", "steer", "cache", "mode", "inherit"] as const;
export type ActionKind = typeof ACTION_KINDS[number];

/** Every kind of event, so that counters of them can start at 0. */
export const EVENT_KINDS = [
  "decision",
  ...ACTION_KINDS,
  "probe",
  "pin",
  "error",
  "info",
  "undo",
] as const;

/** ok; error (the call failed); stuck (it overran its deadline); skipped (gone or stopped). */
export type ActionOutcome = "ok" | "error" | "stuck" | "skipped";
export const ACTION_OUTCOMES: readonly ActionOutcome[] = ["ok", "error", "stuck", "skipped"];

export interface EventAction {
  kind: ActionKind;
  result: ActionOutcome;
}

export interface MitosisJson {
  available: boolean;
  variant: string | null;
  reason: string | null;
  mode: number | null;
  inherit: number | null;
  cache: { node: number; cached: number; hits: number; misses: number; returns: number }[];
  cache_memory_kb: number | null;
  replication_active: boolean | null;
  active: { pid: number; tgid: number; name: string; nodes: number[]; live: boolean }[];
  warnings: string[];
}

export interface PtlJson {
  started_at: string;
  duration_ms: number;
  age_ms: number;
  rows: number[];
  cols: number[];
  latency_ns: (number | null)[][];
  spread: (number | null)[][];
  errors: (string | null)[][];
  buffer_bytes: number;
}

export interface SteeringJson {
  choices: { node: number; replica: number; remote: boolean }[];
  /** What prctl 104 receives: 8 entries, -1 = local. */
  array: number[];
}

export interface DaemonJson {
  mode: "enforcing" | "advisory";
  tick: number;
  update_ms: number;
  ptl_interval_ms: number;
  hysteresis_ms: number;
  thr_mar: number;
  thr_dtlb: number;
  /** The longest damped wait before a re-enable; 0 = no damping. */
  damp_max_ms: number;
  /** Page tables smaller than this are never replicated, KiB. */
  min_pte_kb: number;
  /** Cap on the memory all replicas take, KiB; null = no cap. */
  replica_cap_kb: number | null;
  /** Memory all replicas take now (the sum of the known replica_kb), KiB. */
  replica_kb_total: number;
  /** The interval the processes' rates cover (since the previous sample), ms; null on the first tick. */
  sample_ms: number | null;
  tracked: number;
  replicated: number;
  ptl_measuring: boolean;
  ptl_error: string | null;
  /** How the background PTL refresh measures under its budget (null before the first). */
  ptl_method: PtlMethodJson | null;
  /** The mask replication is turned on with (the nodes with CPUs); null when refused. */
  replication_mask: number | null;
  /** Why replication is refused on this machine (fewer than 2 nodes with CPUs), else null. */
  replication_refused: string | null;
}

export interface PtlMethodJson {
  /** full: the 4 x LLC chase (`r`); flush / ring: the budgeted light refresh; sim. */
  method: "full" | "flush" | "ring" | "sim";
  /** False: the figures are NOT memory latency (note says why); steering ignores them. */
  dram: boolean;
  note: string | null;
  buffer_bytes: number;
  budget_cpu_pct: number;
  budget_memory_bytes: number;
  /** CPU ms one cell's refresh costs (smoothed), cells per refresh, how often (null until known). */
  cell_cost_ms: number | null;
  cells_per_refresh: number | null;
  refresh_every_ms: number | null;
  matrix_every_ms: number | null;
  /** The budget makes the refresh slower than -i (every cell less often than every interval). */
  slowed: boolean;
}

export interface Snapshot {
  schema: number;
  simulated: boolean;
  time: string;
  host: HostJson;
  capabilities: CapabilitiesJson;
  processes: ProcessJson[];
  daemon: DaemonJson | null;
  mitosis: MitosisJson | null;
  ptl: PtlJson | null;
  steering: SteeringJson | null;
  decisions: DecisionJson[];
  /** Events new since the previous snapshot. */
  events: EventJson[];
  tick_ms: number | null;
}

// ------------------------------------------------------------ pure builders

export function hostJson(topology: Topology, hostname: string, kernel: string): HostJson {
  return {
    hostname,
    kernel,
    nodes: topology.nodes.map((n) => ({
      id: n.id,
      cpus: n.cpus,
      mem_total_kb: n.memTotalKb,
      mem_free_kb: n.memFreeKb,
      distances: n.distances,
    })),
    llc_bytes: topology.llcBytes,
    cpu: {
      vendor: topology.cpu.vendor,
      family: topology.cpu.family,
      model: topology.cpu.model,
      model_name: topology.cpu.modelName,
      mhz: topology.cpu.mhz,
    },
    five_level_paging: {
      cpu_flag: topology.fiveLevelPaging.cpuFlag,
      disabled_on_cmdline: topology.fiveLevelPaging.disabledOnCmdline,
      active: topology.fiveLevelPaging.active,
    },
    warnings: topology.warnings,
  };
}

export function mitosisCapabilityJson(d: MitosisDetection): CapabilitiesJson["mitosis"] {
  return { present: d.present, variant: d.variant, files: d.files, reason: d.reason };
}

export function mitosisJson(state: MitosisState): MitosisJson {
  return {
    available: state.detection.present,
    variant: state.detection.variant,
    reason: state.detection.reason,
    mode: state.mode,
    inherit: state.inherit,
    cache: state.cache.map((r) => ({ ...r })),
    cache_memory_kb: state.cacheMemoryKb,
    replication_active: state.replicationActive,
    active: state.active.map((a) => ({
      pid: a.pid,
      tgid: a.tgid,
      name: a.name,
      nodes: a.nodes,
      live: a.live,
    })),
    warnings: state.warnings,
  };
}

export function ptlJson(m: PtlMeasurement, nowWallMs: number): PtlJson {
  return {
    started_at: new Date(m.startedAtMs).toISOString(),
    duration_ms: m.durationMs,
    age_ms: Math.max(0, nowWallMs - m.startedAtMs - m.durationMs),
    rows: m.rows,
    cols: m.cols,
    latency_ns: m.latencyNs,
    spread: m.spread,
    errors: m.errors,
    buffer_bytes: m.bufferBytes,
  };
}

export function ptlMethodJson(
  m: PtlMethod | null,
  budget: BudgetReport | null,
  settings: { ptlCpuPercent: number; ptlMemoryMb: number },
): PtlMethodJson | null {
  if (m === null) return null;
  return {
    method: m.method,
    dram: m.dram,
    note: m.note,
    buffer_bytes: m.bufferBytes,
    budget_cpu_pct: settings.ptlCpuPercent,
    budget_memory_bytes: settings.ptlMemoryMb * 1024 * 1024,
    cell_cost_ms: budget?.cellCostMs ?? null,
    cells_per_refresh: budget?.cellsPerRefresh ?? null,
    refresh_every_ms: budget?.refreshEveryMs ?? null,
    matrix_every_ms: budget?.matrixEveryMs ?? null,
    slowed: budget?.slowed ?? false,
  };
}

export function steeringJson(s: Steering, array: readonly number[]): SteeringJson {
  return { choices: s.choices.map((c) => ({ ...c })), array: [...array] };
}
