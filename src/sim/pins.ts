/**
 * The simulated machine's pins: in memory, so a simulation never touches the
 * real host's pins file. Not shared: a one-shot command's pin would vanish
 * with it, so manual commands do not pin on the simulated machine.
 */
import { type Pins, type PinState, withPin } from "../core/pins.ts";
import type { ProcessKey } from "../core/types.ts";
import type { PinStore } from "../host.ts";

export class MemoryPins implements PinStore {
  readonly shared = false;
  readonly where = "memory";
  #pins: Pins = new Map();

  read(): Promise<{ pins: Pins; warnings: string[] }> {
    return Promise.resolve({ pins: this.#pins, warnings: [] });
  }

  set(key: ProcessKey, state: PinState | null, nowMs: number): Promise<string[]> {
    this.#pins = withPin(this.#pins, key, state, nowMs);
    return Promise.resolve([]);
  }

  async prune(isAlive: (key: ProcessKey) => Promise<boolean>): Promise<string[]> {
    const live = await Promise.all([...this.#pins].map(async (e) => (await isAlive(e[1])) && e));
    this.#pins = new Map(live.filter((e) => e !== false));
    return [];
  }
}
