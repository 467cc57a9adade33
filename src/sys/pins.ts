/**
 * Where a real host keeps manual pins (see core/pins.ts): JSON in a state
 * file so the running daemon (which reads it each tick) and the one-shot
 * commands share them.
 *
 * The file is read as hostile input (whoever can write it may write
 * anything): through the state-file reader (a regular file only, never
 * blocking, 1 MiB at most), its content
 * judged all or nothing (`decodePins`); a bad file is set aside as
 * `pins.json.bad-<time>` and reported once, never quoted. Pins of processes
 * that are gone (pid + start time) are pruned at the daemon's start
 * (`prune`) and on every write, and a write keeps at most MAX_PINS.
 *
 * Writes are atomic (temp file in the same directory + rename), so a daemon
 * reading mid-write sees the old or the new file, never half of one, and a
 * link at the name is replaced, never written through.
 */
import type { ProcessKey } from "../core/types.ts";
import {
  capPins,
  decodePins,
  formatPins,
  type IsAlive,
  livePins,
  type Pin,
  type Pins,
  type PinState,
  withPin,
} from "../core/pins.ts";
import type { PinStore } from "../host.ts";
import { loadStateFile, ReportOnce, writeStateFile } from "./state_file.ts";
import { dirOf, stateDirDistrust } from "./state_dir.ts";
import { errorMessage } from "../core/error_message.ts";

export const DEFAULT_PINS_PATH = "/run/waspd/pins.json";

function untrusted(distrust: string): string {
  return `pins: ${distrust}: its pins are not honoured`;
}

/**
 * Read the pins file: a missing file is no pins (so is one in a state
 * directory others can write); a bad one is set aside
 * (the warning says where, and why, never what was in it).
 */
export function readPins(
  path: string,
  nowMs = Date.now(),
): Promise<{ pins: Map<string, Pin>; warnings: string[] }> {
  const distrust = stateDirDistrust(dirOf(path));
  if (distrust !== null) {
    return Promise.resolve({ pins: new Map(), warnings: [untrusted(distrust)] });
  }
  const { value, warning } = loadStateFile(path, "pins", decodePins, nowMs);
  return Promise.resolve({ pins: value ?? new Map(), warnings: warning === null ? [] : [warning] });
}

/** Replace the pins file atomically (creating its directory), at most MAX_PINS of them. */
export function writePins(path: string, pins: Pins): Promise<string[]> {
  const { pins: capped, dropped } = capPins(pins);
  writeStateFile(path, formatPins(capped));
  return Promise.resolve(dropped > 0 ? [`pins: over the cap: the ${dropped} oldest dropped`] : []);
}

/**
 * What identifies one version of the file without reading it: device, inode,
 * mtime and size from lstat. waspd replaces the file by rename (a new inode),
 * an editor changes its mtime or size; null for anything but a regular file,
 * which is never cached (the full reader judges it every time).
 */
function fileStamp(path: string): string | null {
  try {
    const info = Deno.lstatSync(path);
    if (!info.isFile) return null;
    return `${info.dev}:${info.ino}:${info.mtime?.getTime()}:${info.size}`;
  } catch (error) {
    // No file is a version too (no pins): most daemons never have one, and
    // the full reader would fail to open it again every tick.
    return error instanceof Deno.errors.NotFound ? MISSING : null;
  }
}

/** The stamp of a pins file that does not exist. */
const MISSING = "missing";

/** The pins file as the real host's `PinStore`. */
export class FilePins implements PinStore {
  readonly shared = true;
  readonly path: string;
  readonly #isAlive: IsAlive;
  readonly #once = new ReportOnce();
  /** The last good read and the stamp the file had just before it. */
  #cache: { stamp: string; pins: Pins } | null = null;

  /** `isAlive` prunes at `prune` and on every write (by default nothing is pruned: tests without a /proc). */
  constructor(path: string = DEFAULT_PINS_PATH, isAlive: IsAlive = () => Promise.resolve(true)) {
    this.path = path;
    this.#isAlive = isAlive;
  }

  get where(): string {
    return this.path;
  }

  /**
   * The pins now. The daemon reads every tick: an unchanged file (same
   * device, inode, mtime and size as at the last good read) is not read
   * again; anything else goes through the full, hostile-file-proof reader.
   * A bad file is reported once.
   */
  async read(): Promise<{ pins: Pins; warnings: string[] }> {
    // Before the cache: a directory opened to others since the last read ends its pins too.
    const distrust = stateDirDistrust(dirOf(this.path));
    if (distrust !== null) {
      this.#cache = null;
      return { pins: new Map(), warnings: this.#once.filter(untrusted(distrust)) };
    }
    const stamp = fileStamp(this.path);
    if (stamp !== null && this.#cache?.stamp === stamp) {
      return { pins: this.#cache.pins, warnings: this.#once.filter(null) };
    }
    const { pins, warnings } = await readPins(this.path);
    // The stamp was taken before the read: a file changed in between gets a
    // new stamp, so the next read sees the change.
    this.#cache = stamp !== null && warnings.length === 0 ? { stamp, pins } : null;
    return { pins, warnings: this.#once.filter(warnings[0] ?? null) };
  }

  /**
   * Set (null: remove) one pin and write the file back without the pins of
   * processes that are gone (the one just set is kept: the caller confirmed
   * it). Returns the warnings met. Throws when the file cannot be written.
   */
  async set(key: ProcessKey, state: PinState | null, nowMs: number): Promise<string[]> {
    const { pins, warnings } = await readPins(this.path);
    const others = await livePins(withPin(pins, key, null, nowMs), this.#isAlive);
    return [...warnings, ...await writePins(this.path, withPin(others, key, state, nowMs))];
  }

  /**
   * Drop the pins of processes that are gone (at the daemon's start); the
   * file is rewritten only then. Returns the pins kept.
   */
  async prune(): Promise<{ pins: Pins; warnings: string[] }> {
    const { pins, warnings } = await this.read();
    const live = await livePins(pins, this.#isAlive);
    if (live.size === pins.size) return { pins, warnings };
    try {
      return { pins: live, warnings: [...warnings, ...await writePins(this.path, live)] };
    } catch (error) {
      const why = `pins: ${this.path}: cannot write it: ${errorMessage(error)}`;
      return { pins: live, warnings: [...warnings, why] };
    }
  }
}
