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

/** Nodes of the simulated machine when --sim gives no count. */
const DEFAULT_SIM_NODES = 4;

/** The package version, as deno.json states it (the one place it is written). */
export const VERSION: string = denoJson.version;

export interface ProbeArgs {
  rounds: number | null;
  bufferMb: number | null;
}

export interface CliHandlers {
  daemon(config: Config): Promise<number>;
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
): Command {
  const d = defaultConfig();
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
    .allowExcessArguments(false);
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
    .action(async function (this: Command) {
      done(await handlers.daemon(toConfig(this.opts<GlobalOptions>())));
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
): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(handlers, io, (code) => {
    exitCode = code;
  });
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
