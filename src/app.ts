/**
 * The CLI handlers: build the right Host for the config and run the chosen
 * command against it. Wiring only; each command's logic lives in its module.
 */
import type { CliHandlers } from "./cli.ts";

function notYet(what: string): Promise<number> {
  console.error(`waspd: ${what} is not wired yet`);
  return Promise.resolve(1);
}

export const handlers: CliHandlers = {
  daemon: () => notYet("the daemon"),
  probe: () => notYet("probe"),
  enable: () => notYet("enable"),
  disable: () => notYet("disable"),
  steer: () => notYet("steer"),
  status: () => notYet("status"),
};
