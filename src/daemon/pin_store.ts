/**
 * Where the daemon keeps manual pins: the shared pins file on a real host (so
 * `waspd enable/disable PID` and the running daemon agree), or memory on the
 * simulated machine (which must never touch the real host's state).
 */
import type { ProcessKey } from "../core/types.ts";
import { type Pins, readPins, updatePin } from "../sys/pins.ts";
import { withPin } from "../sys/pins.ts";

export interface PinStore {
  read(): Promise<{ pins: Pins; warnings: string[] }>;
  set(key: ProcessKey, state: "on" | "off" | null, nowMs: number): Promise<void>;
}

export function filePinStore(path: string): PinStore {
  return {
    read: () => readPins(path),
    set: async (key, state, nowMs) => void (await updatePin(path, key, state, nowMs)),
  };
}

export function memoryPinStore(): PinStore {
  let pins: Pins = new Map();
  return {
    read: () => Promise.resolve({ pins, warnings: [] }),
    set: (key, state, nowMs) => {
      pins = withPin(pins, key, state, nowMs);
      return Promise.resolve();
    },
  };
}
