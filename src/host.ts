/**
 * The one seam between the daemon and the machine. `LinuxHost` (src/sys/)
 * touches the real OS; `SimHost` (src/sim/) simulates a NUMA machine with a
 * Mitosis kernel model. The daemon, the policy and the views only ever see a
 * `Host`, so they cannot tell which one they have, and cannot mix them.
 */
import type {
  ActionResult,
  CellFigure,
  CounterReading,
  CounterStatus,
  MitosisDetection,
  MitosisState,
  Privileges,
  ProcessInfo,
  ProcessKey,
  PtlCell,
  PtlMeasurement,
  PtlMethod,
  Topology,
} from "./core/types.ts";
import type { Pins, PinState } from "./core/pins.ts";
import type { OwnedStore } from "./core/ownership_record.ts";

export type { Privileges } from "./core/types.ts";

export interface Clock {
  /** Monotonic milliseconds (simulated time on a SimHost). */
  now(): number;
  /** Wall-clock milliseconds since the epoch (simulated on a SimHost). */
  wallNow(): number;
  /** Resolve after `ms` of this clock's time. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Per-process hardware counters (memory access rate, dTLB misses). */
export interface CounterSource {
  status(): CounterStatus;
  /**
   * Open counters for new targets (most promising first, within the fd
   * budget), close those of targets no longer listed, and read them all.
   * Returns cumulative readings keyed by `processKeyString`; a target without
   * counters is absent from the map.
   */
  sample(targets: readonly ProcessInfo[]): Map<string, CounterReading>;
  close(): void;
}

/** The Mitosis+WASP kernel interface (docs/kernel-interface.md). */
export interface MitosisControl {
  detect(): Promise<MitosisDetection>;
  read(): Promise<MitosisState>;
  /**
   * prctl(100, mask, pid): 0 = off, 1 = all nodes, else a node mask. Enabling
   * for another process can block forever on the kernel side; implementations
   * must return `{ stuck: true }` after `deadlineMs` instead of hanging.
   * `withinMs`, when given, bounds the whole call, getting ready included
   * (the undo on exit passes the time it has left): the call then never takes
   * much longer than that, whatever a helper's start-up timeout says.
   */
  setReplication(
    target: ProcessKey,
    mask: number,
    deadlineMs: number,
    withinMs?: number,
  ): Promise<ActionResult>;
  /** prctl(104): `steering` has STEERING_SLOTS entries, -1 = local. */
  setSteering(target: ProcessKey, steering: readonly number[]): Promise<ActionResult>;
  /** prctl(105). */
  getSteering(target: ProcessKey): Promise<number[] | ActionResult>;
  /**
   * Write `value` to /proc/mitosis/`file`. For `cache`: N > 0 tops every node
   * up to N pages; -1 drains; -2 resets statistics.
   */
  write(file: MitosisWritableFile, value: number): Promise<ActionResult>;
}

/** The /proc/mitosis files waspd writes. */
export type MitosisWritableFile = "mode" | "inherit" | "cache";

export interface ProbeOptions {
  /** Override the buffer size per destination node (bytes). */
  bufferBytes?: number;
  rounds?: number;
  signal?: AbortSignal;
}

/** Measures the page-table-lookup latency matrix, one pinned worker per node. */
export interface Prober {
  measure(topology: Topology, options?: ProbeOptions): Promise<PtlMeasurement>;
}

export interface RefreshOptions {
  /** Memory the refresher may keep mapped, in total over all nodes. */
  memoryBytes: number;
  signal?: AbortSignal;
}

/** What one light refresh measured and what it cost. */
export interface RefreshResult {
  figures: CellFigure[];
  /** CPU time of the refresh itself (the chase threads' busy time plus the main thread's part). */
  costMs: number;
  /** One-time costs paid in this refresh (workers started, rings mapped and written), ms. */
  setupMs: number;
  method: PtlMethod;
}

/**
 * Refreshes chosen cells of the PTL matrix cheaply, keeping its buffers and
 * workers between calls (the daemon's budgeted background refresh).
 */
export interface PtlRefresher {
  refresh(
    topology: Topology,
    cells: readonly PtlCell[],
    options: RefreshOptions,
  ): Promise<RefreshResult>;
  /** Release the kept workers and buffers (the refresher stays usable). */
  close(): void;
}

/** Where the operator's manual pins are kept on this machine. */
export interface PinStore {
  /**
   * True when the pins outlive this process and a running daemon sees them
   * (the real host's pins file); a one-shot command pins only then.
   */
  readonly shared: boolean;
  /** Where the pins are, for messages (a path, or "memory"). */
  readonly where: string;
  /** The pins now; a bad store (a bad pins file, set aside) is reported once. */
  read(): Promise<{ pins: Pins; warnings: string[] }>;
  /** Set (null: remove) one pin; returns warnings met reading the old pins. */
  set(key: ProcessKey, state: PinState | null, nowMs: number): Promise<string[]>;
  /**
   * Drop the pins of processes that are gone (the daemon's start), by the
   * liveness check the store was made with; returns the pins kept and the warnings.
   */
  prune(): Promise<{ pins: Pins; warnings: string[] }>;
}

export interface Host {
  /** True on the simulated machine: labelled as such on every view. */
  readonly simulated: boolean;
  readonly clock: Clock;
  readonly counters: CounterSource;
  readonly mitosis: MitosisControl;
  readonly prober: Prober;
  readonly refresher: PtlRefresher;
  readonly pins: PinStore;
  /**
   * Where the daemon records the replication it turned on, so that the next
   * daemon can take it over if this one dies without its undo.
   */
  readonly ownership: OwnedStore;
  hostname(): string;
  kernelRelease(): string;
  privileges(): Privileges;
  /** Re-read each call: free memory changes. */
  topology(): Promise<Topology>;
  /** Every process, kernel threads included (flagged): filtering is policy. */
  processes(): Promise<ProcessInfo[]>;
  /** One process by pid, whatever its start time; null if there is none. */
  process(pid: number): Promise<ProcessInfo | null>;
  /** Re-read one process's identity right before acting on it; null if gone. */
  confirm(key: ProcessKey): Promise<ProcessInfo | null>;
  /**
   * Its page tables' size (VmPTE), KiB; null when unknown or gone. One small
   * read: the daemon asks only for the processes in play, never for all.
   * A host without it knows no page-table sizes.
   */
  pageTablesKb?(key: ProcessKey): number | null;
  /**
   * What went wrong on the host's side since the last call (the simulated
   * machine failing to save its state), each told once: the daemon logs it.
   */
  takeWarnings?(): string[];
  /** Release counters, workers and children. */
  close(): Promise<void>;
}

/** The real clock: performance.now() and setTimeout. */
export const realClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};
