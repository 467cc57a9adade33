/**
 * The daemon's unattended outputs, set up before the daemon starts:
 * `--metrics` (bound first, so a taken port fails before waspd touches the
 * kernel), `--headless` event lines and the `--log` JSON lines, combined
 * into the one EventLog sink and the one per-snapshot callback the daemon
 * command passes on.
 */
import type { Config } from "../config.ts";
import type { EventSink } from "../core/events.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { formatListenAddress } from "../metrics/listen.ts";
import { MetricsServer } from "../metrics/server.ts";
import { headlessSink, journalMode } from "../ui/headless.ts";
import { VERSION } from "../cli.ts";
import type { Output } from "../sys/stdio.ts";

export interface DaemonOutputs {
  /** Every event, as the --log and --headless lines want it; null when neither is on. */
  sink: EventSink | null;
  onSnapshot(snapshot: Snapshot): void;
  close(): Promise<void>;
}

/**
 * Null (after one line on stderr) when --metrics cannot bind. `headlessFailed`
 * hears the first failed --headless write (no line is written after it).
 */
export function openOutputs(
  config: Config,
  io: Output,
  logSink: EventSink | null,
  env: { JOURNAL_STREAM?: string | undefined },
  headlessFailed: (error: unknown) => void,
): DaemonOutputs | null {
  let metrics: MetricsServer | null = null;
  if (config.metrics !== null) {
    try {
      metrics = new MetricsServer(config.metrics, { version: VERSION, deno: Deno.version.deno });
    } catch (error) {
      const where = formatListenAddress(config.metrics);
      io.err(`waspd: --metrics ${where}: ${(error as Error).message}\n`);
      return null;
    }
    io.err(`waspd: metrics on http://${formatListenAddress(metrics.address)}/metrics\n`);
  }
  const headless = config.headless ? headlessSink(io.out, journalMode(env), headlessFailed) : null;
  const sinks = [logSink, headless].filter((s): s is EventSink => s !== null);
  return {
    sink: sinks.length === 0 ? null : (line, event) => sinks.forEach((s) => s(line, event)),
    onSnapshot: (snapshot) => metrics?.onSnapshot(snapshot),
    close: async () => await metrics?.close(),
  };
}
