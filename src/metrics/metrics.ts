/**
 * The daemon's side of `--metrics`: fed every snapshot, it keeps the running
 * totals and renders the exposition text once per tick for the server to
 * hand out. Rendering here, in the tick's callback, keeps every request a
 * plain copy of finished bytes.
 */
import type { Snapshot } from "../core/snapshot.ts";
import { DaemonCounters } from "./daemon_counters.ts";
import { renderExposition } from "./exposition.ts";
import { type BuildInfo, snapshotFamilies } from "./snapshot_metrics.ts";

export class MetricsRecorder {
  readonly #counters = new DaemonCounters();
  readonly #build: BuildInfo;

  constructor(build: BuildInfo) {
    this.#build = build;
  }

  /** Count this snapshot and return the exposition text that describes it. */
  record(snapshot: Snapshot): string {
    this.#counters.observe(snapshot);
    return renderExposition(snapshotFamilies(snapshot, this.#counters.view(), this.#build));
  }
}
