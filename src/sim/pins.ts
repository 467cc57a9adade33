/**
 * The simulated machine's pins: in memory, so a simulation never touches the
 * real host's pins file. Not shared: a one-shot command's pin would vanish
 * with it, so manual commands do not pin on the simulated machine.
 */
import { type IsAlive, livePins, type Pins, type PinState, withPin } from "../core/pins.ts";
import type { ProcessKey } from "../core/types.ts";
import type { PinStore } from "../host.ts";

export class MemoryPins implements PinStore {
  readonly shared = false;
  readonly where = "memory";
  readonly #isAlive: IsAlive;
  #pins: Pins = new Map();

  /** `isAlive` tells which pins `prune` keeps (by default all: tests without processes). */
  constructor(isAlive: IsAlive = () => Promise.resolve(true)) {
    this.#isAlive = isAlive;
  }

  read(): Promise<{ pins: Pins; warnings: string[] }> {
    return Promise.resolve({ pins: this.#pins, warnings: [] });
  }

  set(key: ProcessKey, state: PinState | null, nowMs: number): Promise<string[]> {
    this.#pins = withPin(this.#pins, key, state, nowMs);
    return Promise.resolve([]);
  }

  async prune(): Promise<{ pins: Pins; warnings: string[] }> {
    this.#pins = await livePins(this.#pins, this.#isAlive);
    return { pins: this.#pins, warnings: [] };
  }
}
