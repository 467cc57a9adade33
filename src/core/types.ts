/**
 * The domain model shared by every part of waspd: what the Host reports about
 * the machine, and what the daemon derives from it. Plain data only (no
 * classes, no methods) so it can cross a Worker boundary and be compared in
 * tests. Field units are in the names (`Kb`, `Ns`, `Ms`).
 */

// ---------------------------------------------------------------- topology

export interface CpuIdentity {
  /** "GenuineIntel", "AuthenticAMD", ... or null when /proc/cpuinfo lacks it. */
  vendor: string | null;
  family: number | null;
  model: number | null;
  modelName: string | null;
  /** Current MHz of the first CPU, as /proc/cpuinfo shows it (header line). */
  mhz: number | null;
}

export interface NumaNode {
  id: number;
  /** Online CPUs of this node; empty for a memory-only node. */
  cpus: number[];
  memTotalKb: number | null;
  memFreeKb: number | null;
  /** SLIT row: distance from this node to each node in `Topology.nodes` order. */
  distances: number[];
}

export interface FiveLevelPaging {
  /** The CPU advertises LA57. */
  cpuFlag: boolean;
  /** `no5lvl` is on the kernel command line. */
  disabledOnCmdline: boolean;
  /** 5-level paging is (probably) in use: flag present and not disabled. */
  active: boolean;
}

export interface Topology {
  /** Online nodes in ascending id order. */
  nodes: NumaNode[];
  /** Last-level cache size in bytes (largest cache level of cpu0), or null. */
  llcBytes: number | null;
  cpu: CpuIdentity;
  fiveLevelPaging: FiveLevelPaging;
  /** Problems met while reading (malformed files); empty when all was clean. */
  warnings: string[];
}

// ---------------------------------------------------------------- processes

/** pid + start time: the identity of a process across pid reuse. */
export interface ProcessKey {
  pid: number;
  /** Field 22 of /proc/PID/stat, clock ticks since boot. */
  startTime: number;
}

/** A process waspd acts on: its identity, and the name events call it by. */
export interface ManagedProcess extends ProcessKey {
  name: string;
}

/**
 * A ProcessKey that carries its text (processKeyString), made once where the
 * process is read: a tick looks each process up in several Maps, and a new
 * string for every lookup was most of a tick's garbage.
 */
export interface KeyedProcess extends ProcessKey {
  readonly id: string;
}

export interface ProcessInfo extends KeyedProcess {
  /** comm as the kernel reports it: untrusted, may hold control bytes. */
  name: string;
  /** One-letter state from /proc/PID/stat (R, S, D, T, t, Z, ...). */
  state: string;
  ppid: number;
  uid: number | null;
  threads: number;
  rssKb: number;
  /** Cumulative minor / major faults (fields 10 and 12). */
  minorFaults: number;
  majorFaults: number;
  /** PF_KTHREAD set in the stat flags (or a child of kthreadd). */
  kernelThread: boolean;
}

/** "pid@startTime": a ProcessKey as text, the key of the per-process Maps. */
export function processKeyString(key: ProcessKey): string {
  return `${key.pid}@${key.startTime}`;
}

/** A ProcessKey with its text, made once. */
export function keyed(key: ProcessKey): KeyedProcess {
  return { pid: key.pid, startTime: key.startTime, id: processKeyString(key) };
}

/** Whether two keys name the same process. */
export function sameProcess(a: ProcessKey, b: ProcessKey): boolean {
  return a.pid === b.pid && a.startTime === b.startTime;
}

// ---------------------------------------------------------------- counters

/** Cumulative counts for one process, scaled for multiplexing. */
export interface CounterReading {
  /** Retired loads (or L1D read accesses), summed over live threads; null = unknown. */
  loads: number | null;
  /** Page walks caused by loads (dTLB load misses); null = unknown. */
  walks: number | null;
  /** Sum of time_enabled / time_running over the counters, ns. */
  enabledNs: number;
  runningNs: number;
  /** Threads with counters open at this reading. */
  threads: number;
  /**
   * Cycles a page walk caused by a load was in progress (Intel
   * DTLB_LOAD_MISSES.WALK_ACTIVE); null or absent = unknown (no such event).
   */
  walkCycles?: number | null;
}

/**
 * What drives the two per-process signals. "hardware": PMU events (loads and
 * page walks). "software": the stand-in the user asks for with
 * `--signals software` where there is no PMU (a VM): task-clock as the rate
 * (CPU ns per second) and page faults as the walks (faults per CPU ns). Not
 * memory signals; never chosen by waspd itself.
 */
export type SignalKind = "hardware" | "software";

export const SIGNAL_KINDS: readonly SignalKind[] = ["hardware", "software"];

export interface CounterStatus {
  /** Counters of the kind `signals` names are usable at all. */
  available: boolean;
  /** Which kind of events the counters are (or would be) opened on. */
  signals: SignalKind;
  /** Which event table is in use, e.g. "intel-icx-raw", "amd-zen3-raw", "generic-cache". */
  source: string | null;
  /** Why counters are missing, e.g. "perf_event_open: ENOENT (no PMU; hypervisor present)". */
  reason: string | null;
  /** /proc/sys/kernel/perf_event_paranoid, or null when unreadable. */
  paranoid: number | null;
  /** File descriptors the counters may use, and how many they use. */
  fdBudget: number;
  fdUsed: number;
  /** The walk-duration event counted (walk cycles per load), or null/absent: unknown. */
  walkCycles?: string | null;
  /** Why walk cycles are not counted, when they are not. */
  walkCyclesReason?: string | null;
}

// ---------------------------------------------------------------- mitosis

export type MitosisVariant = "wasp-6.4" | "wasp-7.0" | "unknown";

export interface MitosisDetection {
  present: boolean;
  variant: MitosisVariant | null;
  /** Files found under /proc/mitosis. */
  files: string[];
  /** Why it is not usable (absent, EINVAL from prctl 101, ...), else null. */
  reason: string | null;
}

export interface CacheRow {
  node: number;
  cached: number;
  hits: number;
  misses: number;
  returns: number;
}

export interface ActiveProcess {
  name: string;
  pid: number;
  tgid: number;
  live: boolean;
  cmdline: string;
  durationMs: number | null;
  nodes: number[];
}

export interface MitosisState {
  detection: MitosisDetection;
  /** -1 default, 0 all on node 0, 1 auto-enable; null when unreadable. */
  mode: number | null;
  /** 1 or -1; null when unreadable. */
  inherit: number | null;
  cache: CacheRow[];
  /** "Cache memory: N KB" from status, when present. */
  cacheMemoryKb: number | null;
  /** "Replication is ACTIVE/INACTIVE", when present. */
  replicationActive: boolean | null;
  active: ActiveProcess[];
  /** Parse problems, per file. */
  warnings: string[];
}

/**
 * The outcome of one kernel call made on behalf of the daemon. A call given up
 * on while it may still run (stuck, or never begun in time) carries `late`:
 * what the kernel answered when it returned at last, or null if that will
 * never be known (its helper died).
 */
export type ActionResult =
  | { ok: true; value?: number }
  | { ok: false; stuck: false; errno: string; message: string; late?: LateResult }
  | { ok: false; stuck: true; message: string; late?: LateResult };

export type LateResult = Promise<ActionResult | null>;

/** Steering as the kernel takes it: always NUMA_NODE_COUNT entries, -1 = local. */
export const STEERING_SLOTS = 8;

// ---------------------------------------------------------------- PTL probe

export interface PtlMeasurement {
  /** Wall-clock ms since the epoch when it started. */
  startedAtMs: number;
  durationMs: number;
  /** Node ids of the rows (nodes with CPUs) and columns (nodes with memory). */
  rows: number[];
  cols: number[];
  /** latencyNs[r][c]: median ns per dependent load; null when the cell failed. */
  latencyNs: (number | null)[][];
  /** Spread between rounds per cell (max-min over median), or null. */
  spread: (number | null)[][];
  /** Why a cell failed (placement not verified, OOM, ...), else null. */
  errors: (string | null)[][];
  bufferBytes: number;
}

/** How the refresh keeps up under the budget, for the snapshot and the screen. */
export interface BudgetReport {
  /** Smoothed CPU cost of refreshing one cell, ms. */
  cellCostMs: number;
  /** Cells refreshed per due refresh at the current cost. */
  cellsPerRefresh: number;
  /** Time between two refreshes: -i, or longer when one cell costs more than the budget of -i. */
  refreshEveryMs: number;
  /** Time until every cell has been refreshed once. */
  matrixEveryMs: number;
  /** Refresh spacing or matrix period is longer than -i because of the budget. */
  slowed: boolean;
}

/** One cell of the PTL matrix: a CPU node (row) reading a memory node (column). */
export interface PtlCell {
  row: number;
  col: number;
}

/** A refreshed cell's figure (median ns per load of its rounds), or why there is none. */
export interface CellFigure extends PtlCell {
  latencyNs: number | null;
  spread: number | null;
  error: string | null;
}

/**
 * How the figures of the matrix were taken, and whether they are memory
 * latency at all: `dram` is false when this host cannot give an honest DRAM
 * figure within the budget (then `note` says why, and steering ignores them).
 */
export interface PtlMethod {
  /** full: the 4 x LLC chase; flush: a kept ring, lines flushed before each load; ring: kept ring, no flush. */
  method: "full" | "flush" | "ring" | "sim";
  dram: boolean;
  note: string | null;
  /** Bytes of the chased buffer per memory node. */
  bufferBytes: number;
}

/** For each node with CPUs: the node whose replica its CPUs should use. */
export interface Steering {
  /** steering[i] = { node: row node id, replica: chosen node id } */
  choices: { node: number; replica: number; remote: boolean }[];
}

// ---------------------------------------------------------------- decisions

export type ReplicationStatus =
  | "idle" // below thresholds, off
  | "watch" // above, waiting for the hysteresis to enable
  | "candidate" // below while on, waiting for the hysteresis to disable
  | "active" // replicated by waspd or found replicated
  | "would-enable" // advisory mode: would have been enabled
  | "pinned-on"
  | "pinned-off"
  | "stuck" // a kernel call did not return in time
  | "n/a"; // signals unknown

/** Who waspd runs as: it acts only as root. */
export interface Privileges {
  /** Effective uid 0. */
  root: boolean;
  uid: number;
}
