/**
 * The simulated daemon the Daemon tests share: four nodes, seed 3, a manual
 * clock, one configuration, and ticks driven one at a time.
 */
import { type Config, defaultConfig } from "../../src/options.ts";
import type { Daemon } from "../../src/daemon/daemon.ts";
import { SimHost } from "../../src/sim/host.ts";

export const UPDATE_MS = 1000;

export const simConfig: Config = {
  ...defaultConfig(),
  simNodes: 4,
  updateIntervalMs: UPDATE_MS,
  ptlIntervalMs: 10_000,
  hysteresisMs: 2000,
};

export function simHost(): SimHost {
  return new SimHost({ nodes: 4, seed: 3, manualClock: true });
}

/** Whether the simulated kernel replicates `pid`. */
export function replicated(host: SimHost, pid: number): boolean {
  return host.kernel.replicated().some((p) => p.pid === pid);
}

/**
 * Up to `most` rounds of a tick, one update interval on the clock and the
 * calls it started settled, stopping early once `done` holds; returns the
 * messages of the events the ticks gave.
 */
export async function ticks(
  daemon: Daemon,
  host: SimHost,
  most: number,
  done: () => boolean = () => false,
): Promise<string[]> {
  const messages: string[] = [];
  for (let t = 0; t < most && !done(); t++) {
    messages.push(...(await daemon.tick()).events.map((e) => e.message));
    await host.advance(UPDATE_MS);
    await daemon.settle();
  }
  return messages;
}
