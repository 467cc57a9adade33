/**
 * The daemon's numeric options as data: flags, help text, parser and default,
 * in help order. The CLI adds each the same way, and each parser is given
 * the option's own first flag for its message, so the two cannot disagree.
 */
import {
  type Config,
  parseCount,
  parseInterval,
  parseMiB,
  parsePercent,
  parsePositive,
  parseRatio,
  parseUpdateInterval,
} from "./config.ts";

export type NumberParser = (flag: string, text: string) => number;

/** A whole number from 0 to `max`. */
const countUpTo = (max: number): NumberParser => (flag, text) => parseCount(flag, text, max);

/** Longest accepted duration: one day, in ms. */
const DAY_MS = 86_400_000;

/**
 * The numeric options of the daemon, in help order: flags, help, parser (it
 * gets the first flag, for its message) and default.
 */
export function numberOptions(d: Config): [string, string, NumberParser, number][] {
  return [
    ["-i, --ptl-interval <ms>", "PTL latency measurement interval", parseInterval, d.ptlIntervalMs],
    [
      "--ptl-cpu <percent>",
      "CPU budget of the background PTL refresh, % of one core",
      parsePercent,
      d.ptlCpuPercent,
    ],
    [
      "--ptl-memory <MiB>",
      "memory the background PTL refresh may keep, MiB",
      parseMiB,
      d.ptlMemoryMb,
    ],
    [
      "-u, --update-interval <ms>",
      "sampling and display update interval",
      parseUpdateInterval,
      d.updateIntervalMs,
    ],
    [
      "-y, --hysteresis <ms>",
      "how long a process must stay above/below the thresholds before a change",
      countUpTo(DAY_MS),
      d.hysteresisMs,
    ],
    [
      "-c, --cache-pages <n>",
      "pre-populate the page-table cache with N pages per node at start",
      countUpTo(1 << 24),
      d.cachePages,
    ],
    [
      "--thr-mar <loads/s>",
      "memory access rate threshold (CPU ns/s with --signals software)",
      parsePositive,
      d.thrMar,
    ],
    [
      "--thr-dtlb <ratio>",
      "dTLB miss ratio threshold, page walks per load (page faults per CPU ns with --signals software)",
      parseRatio,
      d.thrDtlb,
    ],
    [
      "--damp-max <ms>",
      "longest wait before re-enabling a process that flipped back soon (0 = no damping)",
      countUpTo(DAY_MS),
      d.dampMaxMs,
    ],
    [
      "--min-pte <KiB>",
      "never replicate page tables smaller than this",
      countUpTo(1 << 30),
      d.minPteKb,
    ],
  ];
}
