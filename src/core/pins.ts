/**
 * Manual pins as data: processes an operator turned on or off by hand
 * (`waspd enable/disable PID`), which the policy must leave alone. Keyed by
 * pid + start time: a pin never applies to a later process that reuses the
 * pid. Pure: where pins are kept is the Host's business (`PinStore`).
 */
import type { ProcessKey } from "./types.ts";
import { processKeyString } from "./types.ts";

export type PinState = "on" | "off";

export interface Pin {
  pid: number;
  startTime: number;
  state: PinState;
  /** Wall-clock ms when pinned. */
  sinceMs: number;
}

export type Pins = ReadonlyMap<string, Pin>;

interface PinFileJson {
  version: 1;
  pins: { pid: number; start_time: number; state: PinState; since: string }[];
}

/** Parse the file's text; bad entries are skipped with a warning. Pure. */
export function parsePins(text: string): { pins: Map<string, Pin>; warnings: string[] } {
  const pins = new Map<string, Pin>();
  const warnings: string[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return {
      pins,
      warnings: [`pins: not JSON (${error instanceof Error ? error.message : error})`],
    };
  }
  const list = (json as { pins?: unknown })?.pins;
  if (!Array.isArray(list)) return { pins, warnings: ['pins: no "pins" list'] };
  list.forEach((entry, i) => {
    const e = entry as Record<string, unknown>;
    const since = typeof e.since === "string" ? Date.parse(e.since) : Number.NaN;
    if (
      !Number.isSafeInteger(e.pid) || !Number.isSafeInteger(e.start_time) ||
      (e.state !== "on" && e.state !== "off")
    ) {
      warnings.push(`pins: entry ${i} is malformed: ${JSON.stringify(entry)}`);
      return;
    }
    const pin: Pin = {
      pid: e.pid as number,
      startTime: e.start_time as number,
      state: e.state,
      sinceMs: Number.isFinite(since) ? since : 0,
    };
    pins.set(processKeyString(pin), pin);
  });
  return { pins, warnings };
}

/** The file's text for `pins`. Pure. */
export function formatPins(pins: Pins): string {
  const json: PinFileJson = {
    version: 1,
    pins: [...pins.values()].sort((a, b) => a.pid - b.pid).map((p) => ({
      pid: p.pid,
      start_time: p.startTime,
      state: p.state,
      since: new Date(p.sinceMs).toISOString(),
    })),
  };
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** Pins with `key` set to `state` (null removes it). Pure. */
export function withPin(
  pins: Pins,
  key: ProcessKey,
  state: PinState | null,
  nowMs: number,
): Map<string, Pin> {
  const next = new Map(pins);
  const id = processKeyString(key);
  if (state === null) next.delete(id);
  else next.set(id, { pid: key.pid, startTime: key.startTime, state, sinceMs: nowMs });
  return next;
}

/** Pins of processes still alive (by pid + start time). Pure. */
export function prunePins(pins: Pins, alive: ReadonlySet<string>): Map<string, Pin> {
  return new Map([...pins].filter(([id]) => alive.has(id)));
}

/** The pin for `key`, if any. */
export function pinOf(pins: Pins, key: ProcessKey): PinState | null {
  return pins.get(processKeyString(key))?.state ?? null;
}
