/**
 * The real host's pins file, hardened (issue 13 rows 2-6): read with the
 * state-file reader (regular file only, never blocking, 1 MiB at most), the
 * content judged all or nothing (`decodePins`), a bad file set aside and
 * reported once (never quoted); pins of processes that are gone (pid + start
 * time) pruned at start and on every write, and at most MAX_PINS kept.
 */
import { capPins, decodePins, type PinEntry } from "../core/pins_decode.ts";
import type { ProcessKey } from "../core/types.ts";
import { processKeyString } from "../core/types.ts";
import { loadStateFile, ReportOnce, writeStateFile } from "./state_file.ts";

export type PinState = "on" | "off";

export interface PinsFileOptions {
  path: string;
  /** The process with this pid + start time still runs. */
  isAlive(key: ProcessKey): Promise<boolean>;
  /** The file's text for these pins (one format, shared with the in-memory pins). */
  encode(pins: ReadonlyMap<string, PinEntry>): string;
  wallNow(): number;
}

export class PinsFile {
  readonly #options: PinsFileOptions;
  readonly #once = new ReportOnce();
  #prunedAtStart = false;

  constructor(options: PinsFileOptions) {
    this.#options = options;
  }

  get path(): string {
    return this.#options.path;
  }

  /**
   * The pins now, for a daemon reading every tick: a bad file is reported
   * once. The first read prunes the pins of processes that are gone.
   */
  async read(): Promise<{ pins: Map<string, PinEntry>; warnings: string[] }> {
    const { pins, warning } = this.#load();
    const warnings = this.#once.filter(warning);
    if (!this.#prunedAtStart) {
      this.#prunedAtStart = true;
      const alive = await this.#alive(pins);
      if (alive.size < pins.size) warnings.push(...this.#write(alive));
      return { pins: alive, warnings };
    }
    return { pins, warnings };
  }

  /**
   * Set (null: remove) one pin and write the file back, without the pins of
   * processes that are gone. Returns the warnings met (a bad old file, set
   * aside; pins dropped over the cap). Throws when the file cannot be written.
   */
  async set(key: ProcessKey, state: PinState | null, nowMs: number): Promise<string[]> {
    const { pins, warning } = this.#load();
    const id = processKeyString(key);
    if (state === null) pins.delete(id);
    else pins.set(id, { pid: key.pid, startTime: key.startTime, state, sinceMs: nowMs });
    const alive = await this.#alive(pins);
    const { pins: capped, dropped } = capPins(alive);
    writeStateFile(this.#options.path, this.#options.encode(capped));
    const warnings = warning === null ? [] : [warning];
    if (dropped > 0) warnings.push(`pins: over the cap: the ${dropped} oldest dropped`);
    return warnings;
  }

  #load(): { pins: Map<string, PinEntry>; warning: string | null } {
    const { value, warning } = loadStateFile(
      this.#options.path,
      "pins",
      decodePins,
      this.#options.wallNow(),
    );
    return { pins: value ?? new Map(), warning };
  }

  async #alive(pins: ReadonlyMap<string, PinEntry>): Promise<Map<string, PinEntry>> {
    const checks = await Promise.all(
      [...pins].map(async ([id, pin]) => [id, pin, await this.#options.isAlive(pin)] as const),
    );
    return new Map(checks.filter(([, , alive]) => alive).map(([id, pin]) => [id, pin]));
  }

  /** Write pruned pins at start; a failure is a warning, the daemon goes on. */
  #write(pins: ReadonlyMap<string, PinEntry>): string[] {
    try {
      writeStateFile(this.#options.path, this.#options.encode(pins));
      return [];
    } catch (error) {
      return [`pins: ${this.#options.path}: cannot write it: ${(error as Error).message}`];
    }
  }
}
