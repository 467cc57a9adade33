/**
 * Manual pins as data: processes an operator turned on or off by hand
 * (`waspd enable/disable PID`), which the policy must leave alone. Keyed by
 * pid + start time: a pin never applies to a later process that reuses the
 * pid. Pure: where pins are kept is the Host's business (`PinStore`).
 *
 * The pins file is untrusted input: it is either exactly what waspd writes
 * (a version-1 object with a "pins" list of well-formed entries, at most
 * MAX_PINS of them) or it is bad as a whole, with a reason that never quotes
 * the file: it may be a link to /etc/shadow, and the reason reaches --json,
 * --log and the screen. The reader sets a bad file aside for the operator.
 */
import type { ProcessKey } from "./types.ts";
import { processKeyString } from "./types.ts";
import { decodeEntries, isRecord, parseJson } from "./json_guards.ts";
import { isPid, isStartTime } from "./kernel_values.ts";

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

/** More live pinned processes than anyone pins by hand: beyond it, the file is not waspd's. */
export const MAX_PINS = 4096;

export type PinsDecoded =
  | { ok: true; value: Map<string, Pin> }
  | { ok: false; reason: string };

/** Decode the pins file's text, all or nothing. */
export function decodePins(text: string, maxPins = MAX_PINS): PinsDecoded {
  if (text.trim() === "") return { ok: false, reason: "empty" };
  const json = parseJson(text);
  // Say only what the text is not: never quote it.
  if (json === undefined) return { ok: false, reason: "not JSON" };
  if (!isRecord(json) || !Array.isArray(json.pins)) {
    return { ok: false, reason: 'not a pins file (no "pins" list)' };
  }
  if (json.version !== undefined && json.version !== 1) {
    return { ok: false, reason: "not a version 1 pins file" };
  }
  return decodeEntries(json.pins, maxPins, entryOf, processKeyString);
}

function entryOf(entry: unknown): Pin | null {
  if (!isRecord(entry)) return null;
  const { pid, start_time: startTime, state, since } = entry;
  if (!isPid(pid) || !isStartTime(startTime)) return null;
  if (state !== "on" && state !== "off") return null;
  const sinceMs = typeof since === "string" ? Date.parse(since) : Number.NaN;
  return { pid, startTime, state, sinceMs: Number.isFinite(sinceMs) ? sinceMs : 0 };
}

/**
 * At most `max` pins, the most recent kept: a write never produces a file the
 * reader would refuse. Returns how many were dropped. Pure.
 */
export function capPins(pins: Pins, max = MAX_PINS): { pins: Map<string, Pin>; dropped: number } {
  if (pins.size <= max) return { pins: new Map(pins), dropped: 0 };
  const kept = [...pins].sort(([, a], [, b]) => b.sinceMs - a.sinceMs).slice(0, max);
  return { pins: new Map(kept), dropped: pins.size - max };
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

/** Whether the process with this pid + start time still runs (the Host's answer). */
export type IsAlive = (key: ProcessKey) => Promise<boolean>;

/** The pins whose process still runs, asked of `isAlive` all at once; nothing else is touched. */
export async function livePins(pins: Pins, isAlive: IsAlive): Promise<Map<string, Pin>> {
  const checks = await Promise.all(
    [...pins].map(async ([id, pin]) => [id, pin, await isAlive(pin)] as const),
  );
  return new Map(checks.filter(([, , live]) => live).map(([id, pin]) => [id, pin]));
}

/** The pin for `key`, if any. */
export function pinOf(pins: Pins, key: ProcessKey): PinState | null {
  return pins.get(processKeyString(key))?.state ?? null;
}
