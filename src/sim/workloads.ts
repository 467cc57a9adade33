/**
 * The simulated machine's workload scenario: which processes exist when,
 * and how hard they hit memory and the TLB, over simulated time. Thresholds
 * aimed at: the defaults thrMar 1e7 loads/s, thrDtlb 0.01.
 */
import { SeededRng } from "./rng.ts";
import { BOOT_UPTIME_MS, type Phase, startTicks, type Workload } from "./workload_model.ts";

export * from "./workload_model.ts";

export interface ScenarioOptions {
  seed?: number;
  /** Burst processes are scheduled up to this simulated time. */
  horizonMs?: number;
  /** Full period of the flapper (high half, low half); shorter than a typical hysteresis. */
  flapPeriodMs?: number;
}

/** pids the scenario uses, named so tests and the lead's end-to-end tests can find them. */
export const SIM_PIDS = {
  systemd: 1,
  kthreadd: 2,
  kworker: 17,
  sshd: 812,
  bash: 1203,
  /** The daemon itself: the kernel model's caller (prctl pid 0). */
  waspd: 1500,
  stream: 2001,
  idle: 2002,
  compute: 2003,
  gups: 2004,
  flapper: 2005,
  frozen: 2006,
  tiny: 2007,
  nogain: 2008,
  /** Bursts alternate between these two pids, so a pid is reused with a new start time. */
  burstA: 3001,
  burstB: 3002,
} as const;

export const STREAM_END_MS = 120_000;
export const GUPS_START_MS = 10_000;
export const GUPS_END_MS = 300_000;
export const BURST_FIRST_MS = 5_000;
export const BURST_EVERY_MS = 20_000;
/** stream and gups start again (new pids: +100 per epoch) every this long. */
export const EPOCH_MS = 600_000;

/** Workload fields a draft may leave out: `workload` fills them in. */
type Defaulted =
  | "cmdline"
  | "kernelThread"
  | "multiplexShare"
  | "minorFaultsPerS"
  | "majorFaultsPerS"
  | "pteKb"
  | "walkCyclesPerWalk"
  | "replicationGain";

type Draft = Omit<Workload, "startTime" | Defaulted> & Partial<Pick<Workload, Defaulted>>;

/**
 * Page tables of a process whose memory is mapped with 4 KiB pages: 8 bytes
 * of PTE per page (RSS / 512), plus the upper levels and the kernel's
 * minimum of a few pages.
 */
export function pteKbOf(rssKb: number): number {
  return Math.round(rssKb / 512 + 16);
}

function workload(d: Draft): Workload {
  return {
    cmdline: `/usr/bin/${d.name}`,
    kernelThread: false,
    multiplexShare: 1,
    minorFaultsPerS: 50,
    majorFaultsPerS: 0,
    pteKb: d.kernelThread ? 0 : pteKbOf(d.rssKb),
    // The model's assumption, not a measurement: a walk takes 40 cycles while
    // its page tables are remote, and local copies save 40% of them.
    walkCyclesPerWalk: 40,
    replicationGain: 0.4,
    ...d,
    startTime: startTicks(d.startMs),
  };
}

const constant = (
  mar: number,
  dtlbRatio: number,
): Phase[] => [{ durationMs: 1000, mar, dtlbRatio }];

/**
 * The default scenario (times in simulated ms). Seeded jitter (a few percent)
 * moves the figures but never across a threshold, so what each workload
 * exercises does not depend on the seed:
 *
 * - systemd, kthreadd, a kworker, sshd, bash, waspd itself: background the daemon must exclude
 *   (kernel threads by flag, the rest by name).
 * - stream: memory-heavy (MAR 5e7, dTLB 0.03), 8 threads, from 0 to 120 s:
 *   replicated after the hysteresis, then its exit must turn replication off.
 * - idle: MAR 1e5, never a candidate.
 * - compute: high MAR (3e7) but cache-friendly (dTLB 0.002): fails the ratio test.
 * - gups: TLB-heavy (MAR 2e7, dTLB 0.08), 10 s to 300 s, counters multiplexed (50%).
 * - flapper: square wave around both thresholds (1.6e7/0.016 then 0.4e7/0.004),
 *   period 1.6 s: a sampler sees it cross back and forth faster than the hysteresis.
 * - frozen: state T (stopped under a debugger), its counters heavy (4e7, 0.05):
 *   the daemon must skip it on state alone; prctl 100 on it never returns.
 * - tiny: memory-bound (MAR 3e7, dTLB 0.02) but 64 MiB mapped, page tables
 *   of 144 KiB: below the minimum page-table size, never worth replicating.
 * - nogain: memory-bound and TLB-heavy (3e7, 0.04), 2 GiB, but its page
 *   tables already sit where its walks read them: replication removes none
 *   of its walk cycles, so the effect rule must turn it off and keep it off.
 * - every process has a page-table size (RSS / 512 + upper levels), and a
 *   walk duration that replication cuts by 40% unless said otherwise.
 * - burst: memory-heavy, 4-8 s long, every 20 s from 5 s, alternating pids
 *   3001/3002 so each pid is reused with a new start time.
 * - every EPOCH_MS (10 min) stream and gups start again as new processes.
 */
export function defaultScenario(options: ScenarioOptions = {}): Workload[] {
  const rng = new SeededRng(options.seed ?? 1).fork("workloads");
  const horizonMs = options.horizonMs ?? 3_600_000;
  const halfFlapMs = Math.max(1, Math.round((options.flapPeriodMs ?? 1600) / 2));
  const j = (value: number) => value * rng.jitter(0.05);
  const bootMs = -BOOT_UPTIME_MS + 1000;
  /** A user's workload, running from the scenario's start until its end unless said otherwise. */
  const user = { uid: 1000, ppid: SIM_PIDS.bash, state: "R" as const, startMs: 0, endMs: null };
  /** Started at boot as root, asleep, one thread: the system's own processes. */
  const boot = { uid: 0, startMs: bootMs, endMs: null, state: "S" as const, threads: 1 };
  /** A kernel thread: no memory, no command line, no page faults. */
  const kthread = { ...boot, rssKb: 0, kernelThread: true, cmdline: "", minorFaultsPerS: 0 };

  const scenario: Workload[] = [
    workload({
      ...boot,
      name: "systemd",
      pid: SIM_PIDS.systemd,
      ppid: 0,
      rssKb: 12_000,
      cycle: constant(j(2e4), 0.001),
      cmdline: "/sbin/init",
    }),
    workload({
      ...kthread,
      name: "kthreadd",
      pid: SIM_PIDS.kthreadd,
      ppid: 0,
      cycle: constant(0, 0),
    }),
    workload({
      ...kthread,
      name: "kworker/0:1",
      pid: SIM_PIDS.kworker,
      ppid: SIM_PIDS.kthreadd,
      cycle: constant(j(1e5), 0.001),
    }),
    workload({
      ...boot,
      name: "sshd",
      pid: SIM_PIDS.sshd,
      ppid: 1,
      startMs: bootMs + 5000,
      rssKb: 8_000,
      cycle: constant(j(5e4), 0.002),
      cmdline: "sshd: /usr/sbin/sshd -D",
    }),
    workload({
      name: "bash",
      pid: SIM_PIDS.bash,
      ppid: SIM_PIDS.sshd,
      uid: 1000,
      startMs: -60_000,
      endMs: null,
      state: "S",
      threads: 1,
      rssKb: 5_000,
      cycle: constant(j(1e4), 0.001),
      cmdline: "-bash",
    }),
    workload({
      name: "waspd",
      pid: SIM_PIDS.waspd,
      ppid: SIM_PIDS.bash,
      uid: 0,
      startMs: -1000,
      endMs: null,
      state: "S",
      threads: 2,
      rssKb: 60_000,
      cycle: constant(j(2e5), 0.002),
      cmdline: "waspd --sim",
    }),
    workload({
      ...user,
      name: "stream",
      pid: SIM_PIDS.stream,
      startMs: 0,
      endMs: STREAM_END_MS,
      threads: 8,
      rssKb: 4 * 1024 * 1024,
      cycle: constant(j(5e7), j(0.03)),
      minorFaultsPerS: 2000,
      cmdline: "./stream --array-size 400M",
    }),
    workload({
      ...user,
      state: "S",
      name: "idle",
      pid: SIM_PIDS.idle,
      threads: 1,
      rssKb: 20_000,
      cycle: constant(j(1e5), j(0.002)),
      minorFaultsPerS: 1,
      cmdline: "./idle",
    }),
    workload({
      ...user,
      name: "compute",
      pid: SIM_PIDS.compute,
      threads: 4,
      rssKb: 200_000,
      cycle: constant(j(3e7), j(0.002)),
      cmdline: "./compute --blocked",
    }),
    workload({
      ...user,
      name: "gups",
      pid: SIM_PIDS.gups,
      startMs: GUPS_START_MS,
      endMs: GUPS_END_MS,
      threads: 4,
      rssKb: 8 * 1024 * 1024,
      cycle: constant(j(2e7), j(0.08)),
      multiplexShare: 0.5,
      minorFaultsPerS: 4000,
      cmdline: "./gups --log2-table 33",
    }),
    workload({
      ...user,
      name: "flapper",
      pid: SIM_PIDS.flapper,
      threads: 2,
      rssKb: 1024 * 1024,
      cycle: [
        { durationMs: halfFlapMs, mar: 1.6e7, dtlbRatio: 0.016 },
        { durationMs: halfFlapMs, mar: 0.4e7, dtlbRatio: 0.004 },
      ],
      multiplexShare: 0.75,
      cmdline: "./flapper",
    }),
    workload({
      ...user,
      state: "T",
      name: "frozen",
      pid: SIM_PIDS.frozen,
      startMs: -30_000,
      endMs: null,
      threads: 2,
      rssKb: 2 * 1024 * 1024,
      cycle: constant(j(4e7), j(0.05)),
      cmdline: "gdb-stopped ./frozen",
    }),
    workload({
      ...user,
      name: "tiny",
      pid: SIM_PIDS.tiny,
      threads: 1,
      rssKb: 64 * 1024,
      cycle: constant(j(3e7), j(0.02)),
      cmdline: "./tiny --table 64M",
    }),
    workload({
      ...user,
      name: "nogain",
      pid: SIM_PIDS.nogain,
      threads: 4,
      rssKb: 2 * 1024 * 1024,
      cycle: constant(j(3e7), j(0.04)),
      replicationGain: 0,
      cmdline: "./nogain --local-tables",
    }),
  ];

  for (let k = 0, at = BURST_FIRST_MS; at < horizonMs; k++, at += BURST_EVERY_MS) {
    const lifeMs = Math.round(rng.range(4000, 8000));
    scenario.push(workload({
      ...user,
      name: "burst",
      pid: k % 2 === 0 ? SIM_PIDS.burstA : SIM_PIDS.burstB,
      startMs: at,
      endMs: at + lifeMs,
      threads: 2,
      rssKb: 512 * 1024,
      cycle: constant(j(3e7), j(0.02)),
      cmdline: `./burst --round ${k}`,
    }));
  }

  // Every epoch the heavy jobs run again as new processes, so a long `waspd --sim` keeps moving.
  const heavy = scenario.filter((w) => w.pid === SIM_PIDS.stream || w.pid === SIM_PIDS.gups);
  for (let k = 1; k * EPOCH_MS < horizonMs; k++) {
    for (const w of heavy) {
      const shift = k * EPOCH_MS;
      scenario.push(workload({
        ...w,
        pid: w.pid + 100 * k,
        startMs: w.startMs + shift,
        endMs: w.endMs === null ? null : w.endMs + shift,
      }));
    }
  }
  return scenario;
}
