/**
 * The command line: a fresh commander program per call (so tests can parse
 * many argument lists), turning flags into a validated `Config` and handing
 * it to the injected handlers. No effects here beyond commander's own output.
 */
import { Command, CommanderError } from "commander";
import { parsePid, parsePositive, parseRounds } from "./config.ts";
import denoJson from "../deno.json" with { type: "json" };
import { sanitizeLine } from "./ui/sanitize.ts";
import { attachSimCount } from "./cli_argv.ts";
import { type Config, DEFAULT_SIM_NODES } from "./options.ts";
import type { Output } from "./sys/stdio.ts";
import { DEFAULT_CONFIG_FILE } from "./config_file.ts";
import { applyConfigFile, arg, configOf, defineOptions, EXIT_USAGE } from "./cli_options.ts";

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

/** Exit code for a usage error; the program's users find it here. */
export { EXIT_USAGE };

/**
 * Commander's error line echoes the offending value verbatim: sanitize it
 * (an ESC or BEL in a flag value must not reach the terminal) and keep it
 * one line, commander's own "(Did you mean ...?)" hint included.
 */
function usageError(text: string, write: (text: string) => void): void {
  write(sanitizeLine(text.replace(/\n\(Did you mean /g, " (Did you mean ")));
}

export interface CliOptions {
  /** The file read when no --config names one and it exists (default /etc/waspd/waspd.toml). */
  defaultConfigFile?: string;
}

/** Where the configuration came from, for messages: the file read, or none. */
function configSource(file: string | null): string {
  return file ?? "no configuration file";
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
  const defined = defineOptions();
  for (const { option } of defined) program.addOption(option);
  program
    .hook("preAction", () => {
      const file = applyConfigFile(program, defined, defaultFile);
      options.onConfigFile?.(file);
    })
    .action(async function (this: Command) {
      done(await handlers.daemon(configOf(defined, this.opts()), reload));
    });

  const globals = (cmd: Command) => configOf(defined, cmd.optsWithGlobals());

  program.command("probe")
    .description("measure the page-table-lookup latency matrix and the steering it implies")
    .option(
      "--rounds <n>",
      "measurement rounds per cell",
      arg((t: string) => parseRounds("--rounds", t)),
    )
    .option(
      "--buffer-mb <n>",
      "buffer per destination node, MiB",
      arg((t: string) => parsePositive("--buffer-mb", t)),
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
