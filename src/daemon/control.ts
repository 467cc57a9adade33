/**
 * What a view may ask of the running daemon. The TUI maps keys to these; the
 * daemon acknowledges each with an event in the next snapshot. Every
 * operation returns quickly: slow work (a probe, a kernel call) is started and
 * reported later, never awaited by a view.
 */
import type { ProcessKey } from "../core/types.ts";
import type { Snapshot } from "../core/snapshot.ts";

export interface DaemonControl {
  /** Re-measure the PTL latency matrix now (`r`). */
  remeasure(): void;
  /** Raise the page-table cache by `pages` per node (`c`: 100). */
  cacheAdd(pages: number): void;
  /** Drain the page-table cache (`d`). */
  cacheDrain(): void;
  /** Toggle /proc/mitosis/mode between -1 and 1 (`m`). */
  toggleMode(): void;
  /** Pin a process on or off (manual control, `e`/`x`); null unpins. */
  pin(key: ProcessKey, state: "on" | "off" | null): void;
  /** Change the sampling interval (`+`/`-`), clamped to sane bounds. */
  setUpdateInterval(ms: number): void;
  /** Ask the daemon to stop: its run ends, then it undoes what it changed. */
  stop(reason: string): void;
}

/** A view receives each snapshot as it is made. */
export type SnapshotListener = (snapshot: Snapshot) => void;
