/**
 * The command line: a fresh commander program per call (so tests can parse
 * many argument lists), turning flags into a validated `Config` and handing
 * it to the injected handlers. No effects here beyond commander's own output.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import {
  type Config,
  ConfigError,
  defaultConfig,
  parseCount,
  parseDirectory,
  parseExcludeName,
  parseMiB,
  parsePid,
  parsePositive,
  parseRounds,
  parseSignals,
  parseTimeScale,
} from "./config.ts";
import type { SignalKind } from "./core/types.ts";
import { DEFAULT_METRICS_PORT, type ListenAddress, parseListenAddress } from "./metrics/listen.ts";
import denoJson from "../deno.json" with { type: "json" };
import { sanitizeLine } from "./ui/sanitize.ts";
import { attachSimCount } from "./cli_argv.ts";
import { numberOptions } from "./cli_options.ts";
import type { Output } from "./sys/stdio.ts";
import { DEFAULT_CONFIG_FILE, keyOf, readConfigFile, valueWords } from "./config_file.ts";

/** Nodes of the simulated machine when --sim gives no count. */
const DEFAULT_SIM_NODES = 4;

/** The package version, as deno.json states it (the one place it is written). */
export const VERSION: string = denoJson.version;

export interface ProbeArgs {
  rounds: number | null;
  bufferMb: number | null;
}

/** A configuration read again (SIGHUP): the new one and where it came from, or why it failed. */
export type Reloaded = { config: Config; source: string } | { error: string };

export interface CliHandlers {
  /** `reload` reads the configuration file again, with the same flags over it. */
  daemon(config: Config, reload: () => Promise<Reloaded>): Promise<number>;
  probe(config: Config, args: ProbeArgs): Promise<number>;
  enable(config: Config, pid: number): Promise<number>;
  disable(config: Config, pid: number): Promise<number>;
  steer(config: Config, pid: number): Promise<number>;
  unpin(config: Config, pid: number): Promise<number>;
  status(config: Config): Promise<number>;
}

/** Exit code for a usage error (bad flag or value), as getopt tools use. */
export const EXIT_USAGE = 2;

/** Adapt a ConfigError-throwing parser to commander's error type. */
function arg<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      if (error instanceof ConfigError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

const collectExclude = arg((value: string) => parseExcludeName(value));
function collect(value: string, previous: string[]): string[] {
  return [...previous, collectExclude(value)];
}

/**
 * Commander's error line echoes the offending value verbatim: sanitize it
 * (an ESC or BEL in a flag value must not reach the terminal) and keep it
 * one line, commander's own "(Did you mean ...?)" hint included.
 */
function usageError(text: string, write: (text: string) => void): void {
  write(sanitizeLine(text.replace(/\n\(Did you mean /g, " (Did you mean ")));
}

function parseSimNodes(text: string): number {
  const nodes = parseCount("--sim", text, 64);
  if (nodes < 1) throw new ConfigError("--sim: the node count must be at least 1");
  return nodes;
}

export interface CliOptions {
  /** The file read when no --config names one and it exists (default /etc/waspd/waspd.toml). */
  defaultConfigFile?: string;
}

/** Where the configuration came from, for messages: the file read, or none. */
function configSource(file: string | null): string {
  return file ?? "no configuration file";
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Apply the configuration file (--config, or the default one when it
 * exists) to `program`'s options below the flags: a key takes effect only
 * where the command line did not give the option. Any problem is one line
 * and a usage error, as a bad flag is. Returns the file read, or null.
 */
function applyConfigFile(program: Command, defaultFile: string): string | null {
  const named = program.opts<{ config?: string }>().config;
  const path = named ?? (isFile(defaultFile) ? defaultFile : null);
  if (path === null) return null;
  const fail = (message: string): never =>
    program.error(sanitizeLine(`error: ${message}`).trimEnd(), {
      exitCode: EXIT_USAGE,
      code: "waspd.config",
    });
  let table: Record<string, unknown>;
  try {
    table = readConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    throw error;
  }
  const byKey = new Map(
    program.options.map((o) => [keyOf(o), o] as const).filter(([k]) => k !== null),
  );
  for (const [key, value] of Object.entries(table)) {
    const option = byKey.get(key);
    if (option === undefined) return fail(`--config ${path}: unknown key '${key}'`);
    const attr = option.attributeName();
    // Flags override the file.
    if (program.getOptionValueSource(attr) === "cli") continue;
    const repeatable = Array.isArray(option.defaultValue);
    let words: string[];
    try {
      words = valueWords(key, value, option, repeatable, String(DEFAULT_SIM_NODES));
    } catch (error) {
      if (error instanceof ConfigError) return fail(`--config ${path}: ${error.message}`);
      throw error;
    }
    if (words.length === 0) continue;
    let parsed: unknown = repeatable ? [] : undefined;
    try {
      for (const word of words) {
        parsed = !option.required && !option.optional
          ? true
          : option.parseArg === undefined
          ? word
          : option.parseArg(word, parsed);
      }
    } catch (error) {
      if (error instanceof InvalidArgumentError || error instanceof ConfigError) {
        return fail(`--config ${path}: ${key}: ${error.message}`);
      }
      throw error;
    }
    program.setOptionValueWithSource(attr, parsed, "config");
  }
  // Commander checks conflicts before this hook runs: check again with the file's values.
  const given = (attr: string) =>
    program.getOptionValue(attr) !== undefined &&
    program.getOptionValueSource(attr) !== "default";
  for (const option of program.options) {
    if (!given(option.attributeName())) continue;
    // Set by Option.conflicts(); commander's typings leave it out.
    const conflicts = (option as unknown as { conflictsWith?: string[] }).conflictsWith ?? [];
    for (const other of conflicts) {
      const otherOption = program.options.find((o) => o.attributeName() === other);
      if (otherOption !== undefined && given(other)) {
        return fail(
          `--config ${path}: option '${option.long}' cannot be used with option '${otherOption.long}'`,
        );
      }
    }
  }
  return path;
}

interface GlobalOptions {
  ptlInterval: number;
  ptlCpu: number;
  ptlMemory: number;
  updateInterval: number;
  hysteresis: number;
  cachePages: number;
  thrMar: number;
  thrDtlb: number;
  signals: SignalKind;
  dampMax: number;
  minPte: number;
  replicaCap?: number;
  exclude: string[];
  json?: boolean;
  once?: boolean;
  headless?: boolean;
  metrics?: ListenAddress;
  log?: string;
  keepInherit?: boolean;
  /** Always a count: attachSimCount writes every bare --sim as --sim=N. */
  sim?: number;
  seed: number;
  timeScale: number;
  simPrctlMs: number;
  procRoot: string;
  sysRoot: string;
  stateDir?: string;
}

function toConfig(o: GlobalOptions): Config {
  const base = defaultConfig();
  return {
    ...base,
    ptlIntervalMs: o.ptlInterval,
    ptlCpuPercent: o.ptlCpu,
    ptlMemoryMb: o.ptlMemory,
    updateIntervalMs: o.updateInterval,
    hysteresisMs: o.hysteresis,
    cachePages: o.cachePages,
    thrMar: o.thrMar,
    thrDtlb: o.thrDtlb,
    signals: o.signals,
    dampMaxMs: o.dampMax,
    minPteKb: o.minPte,
    replicaCapMb: o.replicaCap ?? null,
    exclude: [...base.exclude, ...o.exclude],
    json: o.json === true,
    once: o.once === true,
    headless: o.headless === true,
    metrics: o.metrics ?? null,
    logFile: o.log ?? null,
    keepInherit: o.keepInherit === true,
    simNodes: o.sim ?? null,
    seed: o.seed,
    timeScale: o.timeScale,
    simPrctlMs: o.simPrctlMs,
    procRoot: o.procRoot,
    sysRoot: o.sysRoot,
    stateDir: o.stateDir ?? null,
  };
}

/**
 * Build the program. `io` receives commander's help and error text; `done`
 * receives the exit code of the handler that ran. Settings made on the
 * program before `.command()` (exitOverride, output, help option) are copied
 * to each subcommand by commander (`copyInheritedSettings`).
 */
export function buildProgram(
  handlers: CliHandlers,
  io: Output,
  done: (exitCode: number) => void,
  options: CliOptions & {
    reload?: () => Promise<Reloaded>;
    onConfigFile?: (file: string | null) => void;
  } = {},
): Command {
  const d = defaultConfig();
  const defaultFile = options.defaultConfigFile ?? DEFAULT_CONFIG_FILE;
  const reload = options.reload ?? (() => Promise.resolve({ error: "reload is not available" }));
  const program = new Command("waspd")
    .description(
      "Manage page-table replication across NUMA nodes on Mitosis+WASP kernels: " +
        "live TUI, or JSON lines with --json.",
    )
    .version(VERSION, "-V, --version")
    .helpOption("-h, --help", "show this help")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: usageError })
    .showSuggestionAfterError(true)
    .allowExcessArguments(false)
    .option(
      "--config <file>",
      `read options from a TOML file, each as a key named as its flag (thr-mar = 1e8); ` +
        `flags override it (default: ${defaultFile} when it exists)`,
    );
  for (const [flags, description, parse, value] of numberOptions(d)) {
    const flag = flags.split(/[ ,]/)[0]!;
    program.option(flags, description, arg((t) => parse(flag, t)), value);
  }
  program
    .option(
      "--signals <kind>",
      "what drives the two signals: hardware (PMU: loads/s, page walks per load) or software " +
        "(no PMU, e.g. a VM; NOT memory signals: task-clock gives the rate in CPU ns/s, page " +
        "faults per CPU ns the ratio, and --thr-mar/--thr-dtlb are read in those units)",
      arg((t) => parseSignals("--signals", t)),
      d.signals,
    )
    .option(
      "--replica-cap <MiB>",
      "cap on the memory all page-table replicas take; at it, enables wait (default: no cap)",
      arg((t) => parseMiB("--replica-cap", t)),
    )
    .option(
      "--exclude <name>",
      "never manage processes with this name (repeatable; * globs)",
      collect,
      [] as string[],
    )
    .option("--json", "print JSON lines instead of the TUI")
    .option("--once", "take one sample, print it and exit")
    .addOption(
      new Option("--headless", "no screen: one line per event on stdout (journald priorities)")
        .conflicts(["json", "once"]),
    )
    .addOption(
      new Option(
        "--metrics <[host:]port>",
        `serve Prometheus metrics on /metrics (a bare port binds 127.0.0.1; e.g. ${DEFAULT_METRICS_PORT})`,
      ).argParser(arg(parseListenAddress)).conflicts("once"),
    )
    .option("--log <file>", "append every decision and action as JSON lines to FILE")
    .option("--keep-inherit", "leave /proc/mitosis/inherit as found (default: off while enforcing)")
    .addOption(
      new Option("--sim [nodes]", "run against a simulated N-node NUMA machine (default 4)")
        .argParser(arg(parseSimNodes)),
    )
    .option(
      "--seed <n>",
      "random seed of the simulated machine",
      arg((t) => parseCount("--seed", t)),
      d.seed,
    )
    .option(
      "--time-scale <x>",
      "simulated ms per real ms (simulation only)",
      arg((t) => parseTimeScale("--time-scale", t)),
      d.timeScale,
    )
    .addOption(
      new Option("--sim-prctl-ms <ms>", "simulated duration of each prctl(100)")
        .argParser(arg((t) => parseCount("--sim-prctl-ms", t, 60_000)))
        .default(d.simPrctlMs).hideHelp(),
    )
    .addOption(
      new Option("--proc-root <dir>", "read /proc from DIR").default(d.procRoot).hideHelp(),
    )
    .addOption(new Option("--sys-root <dir>", "read /sys from DIR").default(d.sysRoot).hideHelp())
    .option(
      "--state-dir <dir>",
      "keep pins.json and owned.json in DIR (default /run/waspd; with --sim: the simulated machine too)",
      arg((t) => parseDirectory("--state-dir", t)),
    )
    .hook("preAction", () => {
      const file = applyConfigFile(program, defaultFile);
      options.onConfigFile?.(file);
    })
    .action(async function (this: Command) {
      done(await handlers.daemon(toConfig(this.opts<GlobalOptions>()), reload));
    });

  const globals = (cmd: Command) => toConfig(cmd.optsWithGlobals<GlobalOptions>());

  program.command("probe")
    .description("measure the page-table-lookup latency matrix and the steering it implies")
    .option(
      "--rounds <n>",
      "measurement rounds per cell",
      arg((t) => parseRounds("--rounds", t)),
    )
    .option(
      "--buffer-mb <n>",
      "buffer per destination node, MiB",
      arg((t) => parsePositive("--buffer-mb", t)),
    )
    .action(async function (this: Command) {
      const o = this.opts<{ rounds?: number; bufferMb?: number }>();
      done(
        await handlers.probe(globals(this), {
          rounds: o.rounds ?? null,
          bufferMb: o.bufferMb ?? null,
        }),
      );
    });

  // The commands that act on one process: same shape, their own handler.
  const pidCommands: ["enable" | "disable" | "unpin" | "steer", string][] = [
    ["enable", "turn replication on for PID and pin it (the policy leaves it alone)"],
    ["disable", "turn replication off for PID and pin it off"],
    ["unpin", "remove the pin of PID: the policy decides for it again (exit 3: it had none)"],
    ["steer", "measure latencies and push the steering matrix to PID"],
  ];
  for (const [name, description] of pidCommands) {
    program.command(name)
      .description(description)
      .argument("<pid>", "process id", arg(parsePid))
      .action(async function (this: Command, pid: number) {
        done(await handlers[name](globals(this), pid));
      });
  }

  program.command("status")
    .description("print the parsed /proc/mitosis state and each replicated process")
    .action(async function (this: Command) {
      done(await handlers.status(globals(this)));
    });

  return program;
}

/**
 * Parse `argv` (without the runtime and script) and run the chosen handler.
 * Returns the process exit code: the handler's, 0 after --help/--version, or
 * EXIT_USAGE for any usage error (commander has already printed one line).
 */
export async function runCli(
  argv: string[],
  handlers: CliHandlers,
  io: Output,
  options: CliOptions = {},
): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(handlers, io, (code) => {
    exitCode = code;
  }, { ...options, reload: () => reloadConfig(argv, options) });
  try {
    await program.parseAsync(attachSimCount(argv, DEFAULT_SIM_NODES), { from: "user" });
  } catch (error) {
    // exitOverride: commander throws where it would exit. Its exit code is 0
    // after --help and --version, non-zero for a usage error.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    throw error;
  }
  return exitCode;
}

/**
 * The daemon's configuration read again as at start: the same flags over the
 * configuration file as it is now. Nothing runs; a problem is its one line.
 */
export async function reloadConfig(argv: string[], options: CliOptions = {}): Promise<Reloaded> {
  let config: Config | null = null;
  let file: string | null = null;
  const errors: string[] = [];
  const refuse = () => Promise.resolve(0);
  const capture: CliHandlers = {
    daemon: (c) => {
      config = c;
      return Promise.resolve(0);
    },
    probe: refuse,
    enable: refuse,
    disable: refuse,
    steer: refuse,
    unpin: refuse,
    status: refuse,
  };
  const program = buildProgram(
    capture,
    { out: () => {}, err: (text) => void errors.push(text) },
    () => {},
    { ...options, onConfigFile: (f) => void (file = f) },
  );
  try {
    await program.parseAsync(attachSimCount(argv, DEFAULT_SIM_NODES), { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { error: errors.join(" ").replace(/^error: /, "").trim() || error.message };
  }
  if (config === null) return { error: "the command line names no daemon to reload" };
  return { config, source: configSource(file) };
}
