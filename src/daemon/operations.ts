/**
 * The operator's /proc/mitosis commands (the keys c, d, m): cache top-up
 * and drain, mode toggle. Remembers the `mode` and `inherit` values read at
 * start; before the first write that changes one, it tells the Ownership the
 * value found, which keeps it (on record, so a waspd killed before its exit
 * leaves it for the next one) and says at exit what to put back.
 * In advisory mode each command only says what it would have written.
 */
import type { EventLog } from "../core/events.ts";
import type { ActionResult, MitosisState } from "../core/types.ts";
import { planInherit } from "../core/inherit.ts";
import type { MitosisControl, MitosisWritableFile } from "../host.ts";
import type { Ownership } from "./ownership.ts";

/** `mode` values: -1 default (per process), 1 auto-enable for new processes. */
const MODE_DEFAULT = -1;
const MODE_AUTO = 1;

export class MitosisOperations {
  readonly #mitosis: MitosisControl;
  readonly #events: EventLog;
  readonly #enforcing: boolean;
  #foundMode: number | null = null;
  /**
   * The smallest per-node cache level found at start: a 6.4 write tops every
   * node *up to* N, so that is the level a drain-then-top-up can give back.
   */
  #foundCache: number | null = null;
  /** waspd raised the cache (`-c`, `c`): drained back to #foundCache on exit. */
  #raisedCache = false;
  #foundInherit: number | null = null;
  /** Told the found value around each write that changes mode or inherit; asked at exit. */
  readonly #ownership: Ownership;

  constructor(
    mitosis: MitosisControl,
    events: EventLog,
    enforcing: boolean,
    ownership: Ownership,
  ) {
    this.#mitosis = mitosis;
    this.#events = events;
    this.#enforcing = enforcing;
    this.#ownership = ownership;
  }

  /** Note the values read at start: what a change puts on record as found. */
  remember(state: MitosisState | null): void {
    this.#foundMode = state?.mode ?? null;
    this.#foundInherit = state?.inherit ?? null;
    const levels = (state?.cache ?? []).map((row) => row.cached);
    this.#foundCache = levels.length > 0 ? Math.min(...levels) : null;
  }

  /** `-c N`: top every node's cache up to N pages. */
  async populateCache(pages: number): Promise<void> {
    const ok = await this.#write(
      "cache",
      pages,
      `cache topped up to ${pages} pages per node`,
    );
    if (ok) this.#raisedCache = true;
  }

  /** `c`: raise by `pages` per node. A 6.4 write tops *up to* N, so write current + pages. */
  async cacheAdd(pages: number, state: MitosisState | null): Promise<void> {
    if (state?.detection.variant === "wasp-7.0") {
      // 7.0 adds N pages per write.
      const ok = await this.#write(
        "cache",
        pages,
        `cache raised by ${pages} pages per node`,
      );
      if (ok) this.#raisedCache = true;
      return;
    }
    const current = Math.max(0, ...(state?.cache ?? []).map((row) => row.cached));
    const target = current + pages;
    const ok = await this.#write(
      "cache",
      target,
      `cache raised to ${target} pages per node (+${pages})`,
    );
    if (ok) this.#raisedCache = true;
  }

  /** `d`: drain every node's cache. */
  async cacheDrain(): Promise<void> {
    await this.#write("cache", -1, "cache drained");
  }

  /** `m`: toggle between per-process (-1) and auto-enable (1). */
  async toggleMode(state: MitosisState | null): Promise<void> {
    const next = state?.mode === MODE_AUTO ? MODE_DEFAULT : MODE_AUTO;
    // On record before the first write: a crash right after it leaves what to restore.
    const found = this.#enforcing ? this.#foundMode : null;
    if (found !== null) this.#ownership.changing("mode", found);
    const ok = await this.#write("mode", next, `mode set to ${next}`);
    if (found !== null) this.#ownership.changed("mode", ok);
  }

  /** At start, when enforcing: turn inherit off unless an option says `keep` (core/inherit.ts). */
  async inheritOff(keep: string | null): Promise<void> {
    const plan = planInherit(this.#foundInherit, keep);
    if (plan.write === null) {
      this.#events.emit("inherit", plan.why);
      return;
    }
    // On record before the write: a crash right after it leaves what to restore.
    if (plan.restore !== null) this.#ownership.changing("inherit", plan.restore);
    const ok = await this.#write("inherit", plan.write, plan.why);
    if (plan.restore !== null) this.#ownership.changed("inherit", ok);
  }

  /**
   * At takeover: a waspd that died without its undo wrote 0 to inherit after
   * finding `found`. Put that back now, and take it as the value found here.
   */
  async restoreLeft(found: number): Promise<boolean> {
    const result = await this.#mitosis.write("inherit", found);
    if (result.ok) this.#foundInherit = found;
    return result.ok;
  }

  /**
   * At takeover: a waspd that died without its undo changed the mode after
   * finding `found`. Put that back now, and take it as the value found here.
   */
  async restoreModeLeft(found: number): Promise<boolean> {
    const result = await this.#mitosis.write("mode", found);
    if (result.ok) this.#foundMode = found;
    return result.ok;
  }

  /** Put back the mode / inherit values found at start, if waspd changed them. */
  async restore(): Promise<string[]> {
    const lines: string[] = [];
    if (this.#raisedCache) lines.push(await this.#cacheBack());
    for (const file of ["mode", "inherit"] as const) {
      const found = this.#ownership.toPutBack(file);
      if (found === undefined) continue;
      const r = await this.#mitosis.write(file, found);
      lines.push(restored(file, found, r));
      if (r.ok) this.#ownership.putBack(file);
    }
    return lines;
  }

  /**
   * The pages waspd added to the page-table cache are memory it took from
   * every node: give them back. A drain empties every node, then a top-up
   * returns each to the level found (its smallest node's, as one write
   * tops all nodes alike). A drain made with `d` is the operator's and stays.
   */
  async #cacheBack(): Promise<string> {
    const found = this.#foundCache ?? 0;
    const drained = await this.#mitosis.write("cache", -1);
    if (!drained.ok) return `could not drain the page-table cache back: ${drained.message}`;
    if (found === 0) return `/proc/mitosis/cache drained back to the ${perNode(0)} found`;
    const topped = await this.#mitosis.write("cache", found);
    return topped.ok
      ? `/proc/mitosis/cache drained and topped back up to the ${perNode(found)} found`
      : `the page-table cache was drained but not topped back up to ${found}: ${topped.message}`;
  }

  async #write(
    file: MitosisWritableFile,
    value: number,
    done: string,
  ): Promise<boolean> {
    if (!this.#enforcing) {
      this.#events.emit(file, `advisory: would write ${value} to /proc/mitosis/${file}`);
      return false;
    }
    const result = await this.#mitosis.write(file, value);
    if (result.ok) this.#events.emit(file, done, null, { action: { kind: file, result: "ok" } });
    else {
      this.#events.emit(
        "error",
        `writing ${value} to /proc/mitosis/${file}: ${result.message}`,
        null,
        {
          action: { kind: file, result: "error" },
        },
      );
    }
    return result.ok;
  }
}

/** Shown for a cache level: "0 pages per node". */
const perNode = (pages: number) => `${pages} page${pages === 1 ? "" : "s"} per node`;

function restored(file: string, value: number, r: ActionResult): string {
  return r.ok
    ? `/proc/mitosis/${file} restored to ${value}`
    : `could not restore /proc/mitosis/${file} to ${value}: ${r.message}`;
}
