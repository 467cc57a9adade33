/**
 * The daemon's options as data, one row each, keyed by the `Config` field it
 * sets: its key in the configuration file (also its long flag, `--key`), the
 * short flag, the value it takes, help text, default, parser, an example and
 * whether a reload applies it. The command line, the configuration file,
 * `--help`, the man page, the README's table of keys, the reload and
 * `defaultConfig` all read this table, and `Config` is its type, so an option
 * is one row here. The thresholds' defaults are the Mitosis reference
 * daemon's, so the same load gets the same decisions.
 */
import {
  ConfigError,
  DEFAULT_EXCLUDED_NAMES,
  parseChoice,
  parseCount,
  parseDirectory,
  parseExcludeName,
  parseInterval,
  parseMiB,
  parsePercent,
  parsePositive,
  parseRatio,
  parseSignals,
  parseTimeScale,
  parseUpdateInterval,
} from "./config.ts";
import type { SignalKind } from "./core/types.ts";
import { HEADLESS_LEVELS, type HeadlessLevel } from "./ui/headless.ts";
import { DEFAULT_METRICS_PORT, type ListenAddress, parseListenAddress } from "./metrics/listen.ts";

/** A value as the configuration file writes it (TOML). */
export type FileValue = number | string | boolean | readonly string[];

export interface OptionRow<T> {
  /** The key in the configuration file, and the long flag without its dashes. */
  readonly key: string;
  readonly short?: string;
  /**
   * What the flag takes, as --help shows it: `<ms>`, or `[nodes]` when the
   * value may be left out; none for a switch (true when given).
   */
  readonly value?: string;
  readonly help: string;
  readonly default: T;
  /**
   * One word of the flag (or of the file's key) to the value. `flag` names
   * the option in the message; `previous` is the value so far (the default
   * at first), which a repeatable option adds to.
   */
  readonly parse?: (flag: string, text: string, previous: T) => T;
  /** The key may be given more than once (an array in the file). */
  readonly repeatable?: boolean;
  /** A value other than the default, as the file writes it: the README's example. */
  readonly example: FileValue;
  /** A reload applies it at once; otherwise a change waits for a restart. */
  readonly live: boolean;
  /** For tests of waspd itself: left out of --help and the man page. */
  readonly hidden?: boolean;
  /** Keys of options that cannot be given with this one. */
  readonly conflicts?: readonly string[];
}

/** A row, its value type taken from its default and its parser. */
function option<T>(row: OptionRow<T>): OptionRow<T> {
  return row;
}

/** A whole number from 0 to `max`. */
const countUpTo = (max: number) => (flag: string, text: string) => parseCount(flag, text, max);

/** Longest accepted duration: one day, in ms. */
const DAY_MS = 86_400_000;

/** Nodes of the simulated machine when --sim gives no count. */
export const DEFAULT_SIM_NODES = 4;

function parseSimNodes(flag: string, text: string): number {
  const nodes = parseCount(flag, text, 64);
  if (nodes < 1) throw new ConfigError(`${flag}: the node count must be at least 1`);
  return nodes;
}

/** The table, in the order --help lists it. */
export const OPTIONS = {
  ptlIntervalMs: option({
    key: "ptl-interval",
    short: "-i",
    value: "<ms>",
    help: "PTL latency measurement interval",
    default: 1000,
    parse: parseInterval,
    example: 5000,
    live: true,
  }),
  ptlCpuPercent: option({
    key: "ptl-cpu",
    value: "<percent>",
    help: "CPU budget of the background PTL refresh, % of one core",
    default: 1,
    parse: parsePercent,
    example: 2.5,
    live: true,
  }),
  ptlMemoryMb: option({
    key: "ptl-memory",
    value: "<MiB>",
    help: "memory the background PTL refresh may keep, MiB",
    default: 16,
    parse: parseMiB,
    example: 64,
    live: true,
  }),
  updateIntervalMs: option({
    key: "update-interval",
    short: "-u",
    value: "<ms>",
    help: "sampling and display update interval",
    default: 1000,
    parse: parseUpdateInterval,
    example: 2000,
    live: true,
  }),
  hysteresisMs: option({
    key: "hysteresis",
    short: "-y",
    value: "<ms>",
    help: "how long a process must stay above/below the thresholds before a change",
    default: 1000,
    parse: countUpTo(DAY_MS),
    example: 4000,
    live: true,
  }),
  cachePages: option({
    key: "cache-pages",
    short: "-c",
    value: "<n>",
    help: "pre-populate the page-table cache with N pages per node at start",
    default: 0,
    parse: countUpTo(1 << 24),
    example: 100,
    live: false,
  }),
  thrMar: option({
    key: "thr-mar",
    value: "<loads/s>",
    help: "memory access rate threshold (CPU ns/s with --signals software)",
    default: 10e6,
    parse: parsePositive,
    example: 1e8,
    live: true,
  }),
  thrDtlb: option({
    key: "thr-dtlb",
    value: "<ratio>",
    help:
      "dTLB miss ratio threshold, page walks per load (page faults per CPU ns with --signals software)",
    default: 0.01,
    parse: parseRatio,
    example: 0.05,
    live: true,
  }),
  dampMaxMs: option({
    key: "damp-max",
    value: "<ms>",
    help: "longest wait before re-enabling a process that flipped back soon (0 = no damping)",
    default: 600_000,
    parse: countUpTo(DAY_MS),
    example: 0,
    live: true,
  }),
  minPteKb: option({
    key: "min-pte",
    value: "<KiB>",
    help: "never replicate page tables smaller than this",
    default: 512,
    parse: countUpTo(1 << 30),
    example: 2048,
    live: true,
  }),
  signals: option<SignalKind>({
    key: "signals",
    value: "<kind>",
    help: "what drives the two signals: hardware (PMU: loads/s, page walks per load) or software " +
      "(no PMU, e.g. a VM; NOT memory signals: task-clock gives the rate in CPU ns/s, page " +
      "faults per CPU ns the ratio, and --thr-mar/--thr-dtlb are read in those units)",
    default: "hardware",
    parse: parseSignals,
    example: "software",
    live: false,
  }),
  replicaCapMb: option<number | null>({
    key: "replica-cap",
    value: "<MiB>",
    help: "cap on the memory all page-table replicas take; at it, enables wait (default: no cap)",
    default: null,
    parse: parseMiB,
    example: 512,
    live: true,
  }),
  exclude: option<string[]>({
    key: "exclude",
    value: "<name>",
    help: "never manage processes with this name (repeatable; * globs)",
    default: [...DEFAULT_EXCLUDED_NAMES],
    parse: (_flag, text, previous) => [...previous, parseExcludeName(text)],
    repeatable: true,
    example: ["myjob*"],
    live: true,
  }),
  json: option({
    key: "json",
    help: "print JSON lines instead of the TUI",
    default: false,
    example: true,
    live: false,
  }),
  once: option({
    key: "once",
    help: "take one sample, print it and exit",
    default: false,
    example: true,
    live: false,
  }),
  headless: option({
    key: "headless",
    help: "no screen: one line per event on stdout (journald priorities)",
    default: false,
    example: true,
    live: false,
    conflicts: ["json", "once"],
  }),
  headlessLevel: option<HeadlessLevel>({
    key: "headless-level",
    value: "<level>",
    help:
      "lowest priority of the --headless lines: error, warning or info (--log keeps every event)",
    default: "info",
    parse: (flag, text) => parseChoice(flag, text, Object.keys(HEADLESS_LEVELS) as HeadlessLevel[]),
    example: "warning",
    live: false,
  }),
  metrics: option<ListenAddress | null>({
    key: "metrics",
    value: "<[host:]port>",
    help: "serve Prometheus metrics on /metrics (a bare port binds 127.0.0.1; " +
      `e.g. ${DEFAULT_METRICS_PORT})`,
    default: null,
    parse: (_flag, text) => parseListenAddress(text),
    example: DEFAULT_METRICS_PORT,
    live: false,
    conflicts: ["once"],
  }),
  logFile: option<string | null>({
    key: "log",
    value: "<file>",
    help: "append every decision and action as JSON lines to FILE",
    default: null,
    parse: (_flag, text) => text,
    example: "/var/log/waspd/events.jsonl",
    live: false,
  }),
  keepInherit: option({
    key: "keep-inherit",
    help: "leave /proc/mitosis/inherit as found (default: off while enforcing)",
    default: false,
    example: true,
    live: false,
  }),
  simNodes: option<number | null>({
    key: "sim",
    value: "[nodes]",
    help: `run against a simulated N-node NUMA machine (default ${DEFAULT_SIM_NODES})`,
    default: null,
    parse: parseSimNodes,
    example: 8,
    live: false,
  }),
  seed: option({
    key: "seed",
    value: "<n>",
    help: "random seed of the simulated machine",
    default: 1,
    parse: countUpTo(Number.MAX_SAFE_INTEGER),
    example: 42,
    live: false,
  }),
  timeScale: option({
    key: "time-scale",
    value: "<x>",
    help: "simulated ms per real ms (simulation only)",
    default: 1,
    parse: parseTimeScale,
    example: 10,
    live: false,
  }),
  simPrctlMs: option({
    key: "sim-prctl-ms",
    value: "<ms>",
    help: "simulated duration of each prctl(100)",
    default: 0,
    parse: countUpTo(60_000),
    example: 500,
    live: false,
    hidden: true,
  }),
  procRoot: option({
    key: "proc-root",
    value: "<dir>",
    help: "read /proc from DIR",
    default: "/proc",
    parse: (_flag, text) => text,
    example: "/srv/fixture/proc",
    live: false,
    hidden: true,
  }),
  sysRoot: option({
    key: "sys-root",
    value: "<dir>",
    help: "read /sys from DIR",
    default: "/sys",
    parse: (_flag, text) => text,
    example: "/srv/fixture/sys",
    live: false,
    hidden: true,
  }),
  stateDir: option<string | null>({
    key: "state-dir",
    value: "<dir>",
    help:
      "keep pins.json and owned.json in DIR (default /run/waspd; with --sim: the simulated machine too)",
    default: null,
    parse: parseDirectory,
    example: "/var/lib/waspd",
    live: false,
  }),
};

type ValueOf<R> = R extends OptionRow<infer T> ? T : never;

/** The daemon's configuration: one field per row of OPTIONS, of its row's value type. */
export type Config = { [F in keyof typeof OPTIONS]: ValueOf<(typeof OPTIONS)[F]> };

export type ConfigField = keyof Config;

/** The rows with their fields, in table order. */
export function optionRows(): [ConfigField, OptionRow<unknown>][] {
  return Object.entries(OPTIONS) as [ConfigField, OptionRow<unknown>][];
}

/** The flags of a row as commander takes them: "-i, --ptl-interval <ms>". */
export function flagsOf(row: OptionRow<unknown>): string {
  const long = `--${row.key}`;
  return [row.short === undefined ? long : `${row.short}, ${long}`, row.value].filter((p) =>
    p !== undefined
  ).join(" ");
}

/** The name a row's messages give it: its short flag, else its long one. */
export function flagName(row: OptionRow<unknown>): string {
  return row.short ?? `--${row.key}`;
}

/** Every row's default: the configuration with no flag and no file. */
export function defaultConfig(): Config {
  const entries = optionRows().map(([field, row]) => {
    const value = row.default;
    return [field, Array.isArray(value) ? [...value] : value];
  });
  return Object.fromEntries(entries) as Config;
}
