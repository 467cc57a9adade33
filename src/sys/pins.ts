/**
 * Where a real host keeps manual pins (see core/pins.ts): JSON in a state
 * file so the running daemon (which reads it each tick) and the one-shot
 * commands share them.
 *
 * Writes are atomic (temp file in the same directory + rename), so a daemon
 * reading mid-write sees the old or the new file, never half of one.
 */
import type { ProcessKey } from "../core/types.ts";
import {
  formatPins,
  parsePins,
  type Pin,
  type Pins,
  type PinState,
  withPin,
} from "../core/pins.ts";
import type { PinStore } from "../host.ts";

export const DEFAULT_PINS_PATH = "/run/waspd/pins.json";

/** Read the pins file: a missing file is no pins; a broken one warns. */
export async function readPins(
  path: string,
): Promise<{ pins: Map<string, Pin>; warnings: string[] }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { pins: new Map(), warnings: [] };
    return {
      pins: new Map(),
      warnings: [`pins: cannot read ${path}: ${(error as Error).message}`],
    };
  }
  return parsePins(text);
}

/** Replace the pins file atomically (creating its directory). */
export async function writePins(path: string, pins: Pins): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash > 0 ? path.slice(0, slash) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(temp, formatPins(pins), { mode: 0o644 });
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/** Read, change one pin, write back. Returns warnings met while reading. */
export async function updatePin(
  path: string,
  key: ProcessKey,
  state: PinState | null,
  nowMs: number,
): Promise<string[]> {
  const { pins, warnings } = await readPins(path);
  await writePins(path, withPin(pins, key, state, nowMs));
  return warnings;
}

/** The pins file as the real host's `PinStore`. */
export class FilePins implements PinStore {
  readonly shared = true;
  readonly path: string;

  constructor(path: string = DEFAULT_PINS_PATH) {
    this.path = path;
  }

  get where(): string {
    return this.path;
  }

  read(): Promise<{ pins: Pins; warnings: string[] }> {
    return readPins(this.path);
  }

  set(key: ProcessKey, state: PinState | null, nowMs: number): Promise<string[]> {
    return updatePin(this.path, key, state, nowMs);
  }
}
