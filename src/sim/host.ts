/**
 * SimHost: a simulated NUMA machine behind the Host seam, so the whole waspd
 * loop can run and be tested on any machine (`waspd --sim`). Every figure is
 * a function of the seed and the simulated time, so a run replays exactly;
 * `simulated = true` labels it on every view and snapshot.
 *
 * Tests drive it with a manual clock: `await host.advance(60_000)` runs a
 * minute of simulated daemon loop; `host.kernel` shows the Mitosis kernel
 * model's state for assertions.
 */
import type { ActionResult, ProcessInfo, ProcessKey, SignalKind, Topology } from "../core/types.ts";
import type { Host, MitosisControl, PinStore, Privileges } from "../host.ts";
import { SimClock } from "./clock.ts";
import { SimCounterSource } from "./counters.ts";
import { SimMitosisControl } from "./mitosis_control.ts";
import { SimMitosisKernel } from "./mitosis_kernel.ts";
import { captureSim, loadSim, restoreSim, saveSim, SIM_STATE_FILE_NAME } from "./persist.ts";
import { memoryOwnedStore, type OwnedStore } from "../core/ownership_record.ts";
import { fileOwnedStore, OWNED_FILE_NAME } from "../sys/ownership_file.ts";
import { MemoryPins } from "./pins.ts";
import { FilePins } from "../sys/pins.ts";
import { SimProber } from "./prober.ts";
import { hashUnit, SeededRng } from "./rng.ts";
import { assertNodeCount, SIM_NODE_MEM_KB, simTopology } from "./topology.ts";
import {
  defaultScenario,
  findLive,
  liveWorkloads,
  processInfoAt,
  SIM_PIDS,
  type Workload,
} from "./workloads.ts";
import { errorMessage } from "../core/error_message.ts";

export interface SimHostOptions {
  nodes?: number;
  seed?: number;
  /** Simulated ms per real ms (ignored with a manual clock). */
  timeScale?: number;
  /** Time moves only through `advance()` (tests). */
  manualClock?: boolean;
  /** Replace the default scenario (tests that need one precise process). */
  scenario?: Workload[];
  /**
   * Keep the clock, the kernel model and the ownership record in this
   * directory across restarts of waspd (`--sim --state-dir`), as a real
   * machine outlives its daemon. Without it, nothing outlives the process.
   */
  stateDir?: string;
  /** Simulated ms each prctl(100) takes (default 0). */
  prctlMs?: number;
  /**
   * `--signals`: "software" labels the simulated counters as the software
   * stand-in, as the real host would (the values stay the workload model's).
   */
  signals?: SignalKind;
  /** Nodes without CPUs (memory only); the kernel model still has them online. */
  memoryOnlyNodes?: number[];
}

/** Memory the OS and page cache hold on every node, before any workload. */
const BASE_USED_KB = 2 * 1024 * 1024;
/** Free memory wobbles by up to this much from second to second. */
const FREE_WOBBLE_KB = 64 * 1024;
/** Page-table pages one replica takes per node: makes the cache HITS/MISSES columns move. */
const PAGES_PER_REPLICA = 64;

export class SimHost implements Host {
  readonly simulated = true;
  readonly nodes: number;
  readonly seed: number;
  readonly clock: SimClock;
  readonly counters: SimCounterSource;
  readonly prober: SimProber;
  /** The simulated prober refreshes cells too (same latency model). */
  get refresher(): SimProber {
    return this.prober;
  }
  readonly mitosis: MitosisControl;
  /**
   * Never the real host's pins file: in memory, or with a state dir in its
   * pins.json, so a chain of commands (enable, then unpin) shares the pins
   * as on a real machine.
   */
  readonly pins: PinStore;
  readonly scenario: readonly Workload[];
  readonly #kernel: SimMitosisKernel;
  /** Start time of the process the kernel model knows under each pid (pid reuse). */
  readonly #kernelStartTimes = new Map<number, number>();
  /** What was wrong with the saved state at start (`stateFile`): reading it, or first writing it. */
  readonly stateWarning: string | null;
  readonly #stateFile: string | null;
  /** Save failures not yet reported (`takeWarnings`); the last one, so a repeat is not. */
  readonly #warnings: string[] = [];
  #lastSaveFailure: string | null = null;
  /** Simulated time of the last save: what a SIGKILLed waspd's successor resumes from. */
  #savedNowMs = -1;
  readonly ownership: OwnedStore;
  /** Nodes without CPUs (a plain field: tests wrap a SimHost with Object.create). */
  readonly memoryOnlyNodes: readonly number[];

  constructor(options: SimHostOptions = {}) {
    this.nodes = options.nodes ?? 4;
    assertNodeCount(this.nodes);
    this.memoryOnlyNodes = [...(options.memoryOnlyNodes ?? [])];
    this.seed = options.seed ?? 1;
    const rng = new SeededRng(this.seed);
    const dir = options.stateDir ?? null;
    this.#stateFile = dir === null ? null : `${dir}/${SIM_STATE_FILE_NAME}`;
    const loaded = this.#stateFile === null
      ? null
      : loadSim(this.#stateFile, { seed: this.seed, nodes: this.nodes }, Date.now());
    const isAlive = async (key: ProcessKey) => (await this.confirm(key)) !== null;
    this.pins = dir === null ? new MemoryPins(isAlive) : new FilePins(`${dir}/pins.json`, isAlive);
    this.ownership = dir === null
      ? memoryOwnedStore()
      : fileOwnedStore(`${dir}/${OWNED_FILE_NAME}`);
    this.clock = new SimClock({
      timeScale: options.timeScale ?? 1,
      manual: options.manualClock ?? false,
      startMs: loaded?.saved?.nowMs ?? 0,
    });
    this.scenario = options.scenario ?? defaultScenario({ seed: this.seed });
    this.counters = new SimCounterSource(this.clock, this.scenario, {
      signals: options.signals ?? "hardware",
      // The kernel model as the tick left it: the daemon reads /proc/mitosis every tick.
      replicated: (pid) => (this.#kernel.processes.get(pid)?.mask ?? 0) !== 0,
    });
    this.prober = new SimProber(this.clock, this.nodes, rng.fork("prober"));
    this.#kernel = new SimMitosisKernel({
      nodes: Array.from({ length: this.nodes }, (_, i) => i),
      callerPid: SIM_PIDS.waspd,
      now: () => this.clock.now(),
      pagesPerReplica: PAGES_PER_REPLICA,
    });
    const control = new SimMitosisControl(
      this.#kernel,
      (ms) => this.clock.sleep(ms),
      options.prctlMs ?? 0,
    );
    this.mitosis = syncedAndSaved(control, () => this.#syncKernel(), () => this.#save());
    if (this.#stateFile !== null) {
      this.#syncKernel();
      if (loaded?.saved) restoreSim(this.#kernel, this.#kernelStartTimes, loaded.saved);
      this.#save();
    }
    // Told once at start (app.ts); a failure of that first save is no news later.
    this.stateWarning = loaded?.warning ?? this.#warnings.shift() ?? null;
  }

  /** Save the clock and the kernel model as they are now (`stateFile`). */
  #save(): void {
    if (this.#stateFile === null) return;
    this.#syncKernel();
    const machine = { seed: this.seed, nodes: this.nodes, nowMs: this.clock.now() };
    try {
      saveSim(this.#stateFile, captureSim(this.#kernel, this.#kernelStartTimes, machine));
      this.#savedNowMs = machine.nowMs;
      this.#lastSaveFailure = null;
    } catch (error) {
      const failure = `simulated state: cannot write ${this.#stateFile}: ${errorMessage(error)}`;
      if (failure !== this.#lastSaveFailure) this.#warnings.push(failure);
      this.#lastSaveFailure = failure;
    }
  }

  /**
   * Failures to save the simulated machine since the last call, each told
   * once. Bound: a Host built on this one (Object.create) still reaches it.
   */
  readonly takeWarnings = (): string[] => this.#warnings.splice(0);

  /**
   * The Mitosis kernel model, brought up to the current simulated time (who
   * lives, who is stopped), for assertions. Act through `mitosis`, not this.
   */
  get kernel(): SimMitosisKernel {
    this.#syncKernel();
    return this.#kernel;
  }

  /**
   * The kernel model keeps its own process table (it answers ESRCH for
   * unknown pids): make it match the scenario now. An exited process or a
   * reused pid takes its replication with it, as in the real kernel.
   */
  #syncKernel(): void {
    const live = new Map(liveWorkloads(this.scenario, this.clock.now()).map((w) => [w.pid, w]));
    for (const pid of [...this.#kernel.processes.keys()]) {
      if (pid === this.#kernel.callerPid) continue;
      const w = live.get(pid);
      if (w === undefined || w.startTime !== this.#kernelStartTimes.get(pid)) {
        this.#kernel.removeProcess(pid);
        this.#kernelStartTimes.delete(pid);
      }
    }
    for (const w of live.values()) {
      if (w.pid === this.#kernel.callerPid) continue;
      const known = this.#kernel.processes.get(w.pid);
      if (known === undefined) {
        this.#kernel.addProcess({
          pid: w.pid,
          name: w.name,
          argv: w.cmdline.split(" ").filter((a) => a !== ""),
          state: w.state,
        });
        this.#kernelStartTimes.set(w.pid, w.startTime);
      } else if (known.state !== w.state) {
        this.#kernel.setProcessState(w.pid, w.state);
      }
    }
  }

  /** Manual clock: run `ms` of simulated time (see SimClock.advance). */
  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  /** Manual clock: resolves once `count` sleeps are pending (a loop is between ticks). */
  whenSleeping(count = 1): Promise<void> {
    return this.clock.whenSleeping(count);
  }

  hostname(): string {
    return `sim-${this.nodes}node`;
  }

  kernelRelease(): string {
    return "6.4.0-wasp (simulated)";
  }

  privileges(): Privileges {
    // The simulated machine lets the daemon act; every view says it is simulated.
    return { root: true, uid: 0 };
  }

  topology(): Promise<Topology> {
    const nowMs = this.clock.now();
    const second = Math.floor(nowMs / 1000);
    const usedByWorkloads = new Array<number>(this.nodes).fill(0);
    for (const w of liveWorkloads(this.scenario, nowMs)) {
      const node = homeNodeOf(w, this.nodes);
      usedByWorkloads[node] = (usedByWorkloads[node] ?? 0) + processInfoAt(w, nowMs).rssKb;
    }
    const memFreeKb = usedByWorkloads.map((used, node) => {
      const wobble = Math.round(hashUnit(this.seed, `memfree-${node}`, second) * FREE_WOBBLE_KB);
      return Math.max(0, SIM_NODE_MEM_KB - BASE_USED_KB - used - wobble);
    });
    return Promise.resolve(simTopology(this.nodes, memFreeKb, this.memoryOnlyNodes));
  }

  /**
   * The daemon is about to see the process table at `nowMs`: saved first (when
   * time has moved), so a SIGKILLed waspd's successor resumes no earlier than
   * anything it saw, and a process seen to exit never comes back. Bound, as
   * `takeWarnings`: a Host built on this one (Object.create) still reaches it.
   */
  private readonly seenAt = (nowMs: number): void => {
    if (this.#stateFile !== null && nowMs > this.#savedNowMs) this.#save();
  };

  processes(): Promise<ProcessInfo[]> {
    const nowMs = this.clock.now();
    this.seenAt(nowMs);
    return Promise.resolve(liveWorkloads(this.scenario, nowMs).map((w) => processInfoAt(w, nowMs)));
  }

  process(pid: number): Promise<ProcessInfo | null> {
    const nowMs = this.clock.now();
    this.seenAt(nowMs);
    const workload = liveWorkloads(this.scenario, nowMs).find((w) => w.pid === pid);
    return Promise.resolve(workload === undefined ? null : processInfoAt(workload, nowMs));
  }

  confirm(key: ProcessKey): Promise<ProcessInfo | null> {
    const nowMs = this.clock.now();
    this.seenAt(nowMs);
    const workload = findLive(this.scenario, key, nowMs);
    return Promise.resolve(workload === null ? null : processInfoAt(workload, nowMs));
  }

  /**
   * By identity, not liveness: on a fast --time-scale a short-lived process
   * listed at the start of a tick may have ended by the time its size is
   * asked for, and its row still deserves the size it had.
   */
  pageTablesKb(key: ProcessKey): number | null {
    const w = this.scenario.find((x) => x.pid === key.pid && x.startTime === key.startTime);
    return w?.pteKb ?? null;
  }

  close(): Promise<void> {
    this.counters.close();
    return Promise.resolve();
  }
}

/** The node a workload's memory lives on: first-touch on the node it started on. */
export function homeNodeOf(w: Workload, nodes: number): number {
  return w.pid % nodes;
}

/**
 * Every MitosisControl call first brings the kernel model up to date; every
 * call that may change it is saved after it returns, and again when the late
 * answer of a call given up on comes in (a blocked prctl(100) takes effect
 * only when its target runs again).
 */
function syncedAndSaved(
  control: MitosisControl,
  sync: () => void,
  save: () => void,
): MitosisControl {
  const saved = async (call: Promise<ActionResult>): Promise<ActionResult> => {
    try {
      const result = await call;
      if (result.ok || result.late === undefined) return result;
      return { ...result, late: result.late.finally(save) };
    } finally {
      save();
    }
  };
  return {
    detect: () => (sync(), control.detect()),
    read: () => (sync(), control.read()),
    setReplication: (target, mask, deadlineMs) => (
      sync(), saved(control.setReplication(target, mask, deadlineMs))
    ),
    setSteering: (target, steering) => (sync(), saved(control.setSteering(target, steering))),
    getSteering: (target) => (sync(), control.getSteering(target)),
    write: (file, value) => (sync(), saved(control.write(file, value))),
  };
}
