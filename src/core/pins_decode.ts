/**
 * The pins file judged as untrusted input: it is either exactly what waspd
 * writes (a version-1 object with a "pins" list of well-formed entries, at
 * most MAX_PINS of them) or it is bad as a whole, with a reason that never
 * quotes the file: the file may be a link to /etc/shadow, and the reason
 * reaches --json, --log and the screen. A bad file is set aside by the
 * reader, so the operator keeps it and sees one warning. Pure.
 */
import { processKeyString } from "./types.ts";

/** More live pinned processes than anyone pins by hand: beyond it, the file is not waspd's. */
export const MAX_PINS = 4096;

/** One pin as stored (the same shape as `Pin`). */
export interface PinEntry {
  pid: number;
  startTime: number;
  state: "on" | "off";
  /** Wall-clock ms when pinned. */
  sinceMs: number;
}

export type PinsDecoded =
  | { ok: true; value: Map<string, PinEntry> }
  | { ok: false; reason: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Decode the pins file's text, all or nothing. */
export function decodePins(text: string, maxPins = MAX_PINS): PinsDecoded {
  if (text.trim() === "") return { ok: false, reason: "empty" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the text: say only what it is not.
    return { ok: false, reason: "not JSON" };
  }
  if (!isRecord(json) || !Array.isArray(json.pins)) {
    return { ok: false, reason: 'not a pins file (no "pins" list)' };
  }
  if (json.version !== undefined && json.version !== 1) {
    return { ok: false, reason: "not a version 1 pins file" };
  }
  const list: unknown[] = json.pins;
  if (list.length > maxPins) {
    return { ok: false, reason: `${list.length} entries, more than the ${maxPins} allowed` };
  }
  const pins = new Map<string, PinEntry>();
  for (const [i, entry] of list.entries()) {
    const pin = entryOf(entry);
    if (pin === null) return { ok: false, reason: `entry ${i} is malformed` };
    pins.set(processKeyString(pin), pin);
  }
  return { ok: true, value: pins };
}

function entryOf(entry: unknown): PinEntry | null {
  if (!isRecord(entry)) return null;
  const { pid, start_time: startTime, state, since } = entry;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid < 1) return null;
  if (typeof startTime !== "number" || !Number.isSafeInteger(startTime) || startTime < 0) {
    return null;
  }
  if (state !== "on" && state !== "off") return null;
  const sinceMs = typeof since === "string" ? Date.parse(since) : Number.NaN;
  return { pid, startTime, state, sinceMs: Number.isFinite(sinceMs) ? sinceMs : 0 };
}

/**
 * At most `max` pins, the most recent kept: a write never produces a file the
 * reader would refuse. Returns how many were dropped. Pure.
 */
export function capPins<P extends PinEntry>(
  pins: ReadonlyMap<string, P>,
  max = MAX_PINS,
): { pins: Map<string, P>; dropped: number } {
  if (pins.size <= max) return { pins: new Map(pins), dropped: 0 };
  const kept = [...pins].sort(([, a], [, b]) => b.sinceMs - a.sinceMs).slice(0, max);
  return { pins: new Map(kept), dropped: pins.size - max };
}
