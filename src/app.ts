/**
 * The CLI handlers: build the right Host for the config (the real machine or
 * the simulated one, never a mix) and run the chosen command against it.
 * Wiring only; each command's logic lives in its module.
 */
import type { CliHandlers } from "./cli.ts";
import type { Config } from "./options.ts";
import type { Host } from "./host.ts";
import { runDaemonCommand } from "./commands/daemon.ts";
import * as manual from "./commands/manual.ts";
import { runProbe } from "./commands/probe.ts";
import { computeSteering, steeringArray } from "./core/steering.ts";
import { PRCTL_DEADLINE_MS } from "./daemon/daemon.ts";
import { SimHost } from "./sim/host.ts";
import { LinuxHost } from "./sys/linux_host.ts";
import { stdio as io } from "./sys/stdio.ts";
import { sanitizeLine } from "./ui/sanitize.ts";

/** The one place that chooses the real machine or the simulated one; the rest asks the Host. */
export function openHost(config: Config): Promise<Host> {
  const stateDir = config.stateDir === null ? {} : { stateDir: config.stateDir };
  if (config.simNodes !== null) {
    const host = new SimHost({
      nodes: config.simNodes,
      seed: config.seed,
      timeScale: config.timeScale,
      prctlMs: config.simPrctlMs,
      signals: config.signals,
      ...stateDir,
    });
    // It names the --state-dir, which may hold anything.
    if (host.stateWarning !== null) io.err(sanitizeLine(`waspd: ${host.stateWarning}`));
    return Promise.resolve(host);
  }
  return LinuxHost.open({
    procRoot: config.procRoot,
    sysRoot: config.sysRoot,
    signals: config.signals,
    ...stateDir,
  });
}

async function withHost<T>(config: Config, use: (host: Host) => Promise<T>): Promise<T> {
  const host = await openHost(config);
  try {
    return await use(host);
  } finally {
    await host.close();
  }
}

function manualContext(host: Host): manual.ManualContext {
  return {
    mitosis: host.mitosis,
    lookup: (pid) => host.process(pid),
    privileges: host.privileges(),
    topology: () => host.topology(),
    pins: host.pins,
    deadlineMs: PRCTL_DEADLINE_MS,
    wallNow: () => host.clock.wallNow(),
    out: io.out,
    err: io.err,
  };
}

export const handlers: CliHandlers = {
  daemon: (config, reload) => runDaemonCommand(config, { openHost, reload }, io),
  probe: (config, args) =>
    withHost(
      config,
      async (host) =>
        runProbe(host.prober, await host.topology(), args, config.json, io.out, () =>
          host.clock.wallNow()),
    ),
  enable: (config, pid) => withHost(config, (host) => manual.runEnable(manualContext(host), pid)),
  disable: (config, pid) => withHost(config, (host) => manual.runDisable(manualContext(host), pid)),
  unpin: (config, pid) => withHost(config, (host) => manual.runUnpin(manualContext(host), pid)),
  steer: (config, pid) =>
    withHost(config, (host) =>
      manual.runSteer(manualContext(host), pid, async () => {
        const m = await host.prober.measure(await host.topology());
        if (m.rows.length === 0) return "the latency probe measured nothing";
        return steeringArray(computeSteering(m));
      })),
  status: (config) =>
    withHost(config, (host) => manual.runStatus(manualContext(host), config.json)),
};
