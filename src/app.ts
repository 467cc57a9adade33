/**
 * The CLI handlers: build the right Host for the config (the real machine or
 * the simulated one, never a mix) and run the chosen command against it.
 * Wiring only; each command's logic lives in its module.
 */
import type { CliHandlers } from "./cli.ts";
import type { Config } from "./config.ts";
import type { Host } from "./host.ts";
import { runDaemonCommand } from "./commands/daemon.ts";
import {
  type ManualContext,
  runDisable,
  runEnable,
  runStatus,
  runSteer,
  runUnpin,
} from "./commands/manual.ts";
import { runProbe } from "./commands/probe.ts";
import { computeSteering, steeringArray } from "./core/steering.ts";
import { filePinStore, memoryPinStore, type PinStore } from "./daemon/pin_store.ts";
import { PRCTL_DEADLINE_MS } from "./daemon/daemon.ts";
import { SimHost } from "./sim/host.ts";
import { DEFAULT_PINS_PATH } from "./sys/pins.ts";
import { LinuxHost } from "./sys/linux_host.ts";

import { stdio as io } from "./sys/stdio.ts";

export function openHost(config: Config): Promise<Host> {
  if (config.simNodes !== null) {
    return Promise.resolve(
      new SimHost({
        nodes: config.simNodes,
        seed: config.seed,
        timeScale: config.timeScale,
        prctlMs: config.simPrctlMs,
      }),
    );
  }
  return LinuxHost.open({ procRoot: config.procRoot, sysRoot: config.sysRoot });
}

/** Pins live in the shared state file on a real host, in memory on the simulated one. */
export function pinStoreFor(config: Config): PinStore {
  return config.simNodes !== null ? memoryPinStore() : filePinStore(DEFAULT_PINS_PATH);
}

async function withHost<T>(config: Config, use: (host: Host) => Promise<T>): Promise<T> {
  const host = await openHost(config);
  try {
    return await use(host);
  } finally {
    await host.close();
  }
}

function manualContext(host: Host, config: Config): ManualContext {
  return {
    mitosis: host.mitosis,
    lookup: (pid) => host.process(pid),
    privileges: host.privileges(),
    pinsPath: config.simNodes !== null ? null : DEFAULT_PINS_PATH,
    deadlineMs: PRCTL_DEADLINE_MS,
    wallNow: () => host.clock.wallNow(),
    out: io.out,
    err: io.err,
  };
}

export const handlers: CliHandlers = {
  daemon: (config) => runDaemonCommand(config, { openHost, pins: pinStoreFor }, io),
  probe: (config, args) =>
    withHost(
      config,
      async (host) =>
        runProbe(host.prober, await host.topology(), args, config.json, io.out, () =>
          host.clock.wallNow()),
    ),
  enable: (config, pid) => withHost(config, (host) => runEnable(manualContext(host, config), pid)),
  disable: (config, pid) =>
    withHost(config, (host) => runDisable(manualContext(host, config), pid)),
  unpin: (config, pid) => withHost(config, (host) => runUnpin(manualContext(host, config), pid)),
  steer: (config, pid) =>
    withHost(config, (host) =>
      runSteer(manualContext(host, config), pid, async () => {
        const m = await host.prober.measure(await host.topology());
        if (m.rows.length === 0) return "the latency probe measured nothing";
        return steeringArray(computeSteering(m));
      })),
  status: (config) =>
    withHost(config, (host) => runStatus(manualContext(host, config), config.json)),
};
