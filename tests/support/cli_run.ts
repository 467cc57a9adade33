/**
 * runCli with handlers that only record what they were called with, and
 * its output kept: for tests of option parsing without running anything.
 */
import { type CliHandlers, type CliOptions, type ProbeArgs, runCli } from "../../src/cli.ts";
import type { Config } from "../../src/options.ts";

export interface Call {
  command: string;
  config: Config;
  extra?: number | ProbeArgs;
}

export interface CliRun {
  code: number;
  calls: Call[];
  out: string;
  err: string;
}

/** Parse `argv` as waspd would; every handler records its call and returns 0. */
export async function runRecorded(argv: string[], options: CliOptions = {}): Promise<CliRun> {
  const calls: Call[] = [];
  let out = "";
  let err = "";
  const record = (command: string) => (config: Config, extra?: number | ProbeArgs) => {
    calls.push(extra === undefined ? { command, config } : { command, config, extra });
    return Promise.resolve(0);
  };
  const handlers: CliHandlers = {
    daemon: (config) => record("daemon")(config),
    probe: record("probe"),
    enable: record("enable"),
    disable: record("disable"),
    steer: record("steer"),
    unpin: record("unpin"),
    status: record("status"),
  };
  const code = await runCli(argv, handlers, {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
  }, options);
  return { code, calls, out, err };
}
