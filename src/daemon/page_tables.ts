/**
 * Page-table sizes (VmPTE) of the tracked processes, read sparingly:
 * /proc/PID/status is the expensive file of a process scan, so the processes
 * in play (candidates, replicated, pinned) are read every tick, and the rest
 * a few per tick, each at most once a REFRESH_TICKS, so that every row of the
 * snapshot gets a size without a tick reading thousands of status files.
 */
import type { KeyedProcess, ProcessKey } from "../core/types.ts";

/** Processes out of play read per tick, at most. */
export const OUT_OF_PLAY_PER_TICK = 16;
/** A size out of play is read again after this many ticks. */
export const REFRESH_TICKS = 60;

export type PageTableReader = (key: ProcessKey) => number | null;

interface Known {
  kb: number | null;
  tick: number;
}

export class PageTables {
  readonly #read: PageTableReader | null;
  #known = new Map<string, Known>();
  #tick = 0;

  /** `read` null: the host cannot tell page-table sizes (all unknown). */
  constructor(read: PageTableReader | null) {
    this.#read = read;
  }

  /**
   * Sizes for this tick's processes, KiB (null = unknown): `inPlay` read now,
   * the others as their turn comes. Processes not listed are forgotten.
   */
  update(
    processes: readonly KeyedProcess[],
    inPlay: (key: string) => boolean,
  ): Map<string, number | null> {
    this.#tick++;
    const next = new Map<string, Known>();
    const sizes = new Map<string, number | null>();
    let budget = OUT_OF_PLAY_PER_TICK;
    for (const process of processes) {
      const key = process.id;
      let known = this.#known.get(key);
      const due = known === undefined || this.#tick - known.tick >= REFRESH_TICKS;
      if (this.#read !== null && (inPlay(key) || (due && budget > 0))) {
        if (!inPlay(key)) budget--;
        known = { kb: this.#read(process), tick: this.#tick };
      }
      if (known !== undefined) next.set(key, known);
      sizes.set(key, known?.kb ?? null);
    }
    this.#known = next;
    return sizes;
  }
}
