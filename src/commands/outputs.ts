/**
 * The daemon's unattended outputs, set up before the daemon starts:
 * `--metrics` (bound first when it can be: a taken port is an error event and
 * a bind retried in the background, never a stop), `--headless` event lines
 * and the `--log` JSON lines, combined
 * into the one EventLog sink and the one per-snapshot callback the daemon
 * command passes on.
 */
import type { Config } from "../config.ts";
import type { EventSink } from "../core/events.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { formatListenAddress } from "../metrics/listen.ts";
import { MetricsServer, type Report } from "../metrics/server.ts";
import { HEADLESS_LEVELS, headlessSink, journalMode } from "../ui/headless.ts";
import { VERSION } from "../cli.ts";
import type { Output } from "../sys/stdio.ts";

export interface DaemonOutputs {
  /** Every event, as the --log and --headless lines want it; null when neither is on. */
  sink: EventSink | null;
  onSnapshot(snapshot: Snapshot): void;
  close(): Promise<void>;
}

/**
 * `headlessFailed` hears the first failed --headless write (no line is
 * written after it); `report` hears what the --metrics server has to say
 * (a port it cannot bind, accepts failing), for the event log.
 */
export function openOutputs(
  config: Config,
  io: Output,
  logSink: EventSink | null,
  env: { JOURNAL_STREAM?: string | undefined },
  headlessFailed: (error: unknown) => void,
  report: Report,
): DaemonOutputs {
  let metrics: MetricsServer | null = null;
  if (config.metrics !== null) {
    const build = { version: VERSION, deno: Deno.version.deno };
    metrics = new MetricsServer(config.metrics, build, { report });
    // Bound later, it says so in an event: stderr may be the live screen's by then.
    if (metrics.address !== null) {
      io.err(`waspd: metrics on http://${formatListenAddress(metrics.address)}/metrics\n`);
    }
  }
  const headless = config.headless
    ? headlessSink(io.out, journalMode(env), headlessFailed, HEADLESS_LEVELS[config.headlessLevel])
    : null;
  const sinks = [logSink, headless].filter((s): s is EventSink => s !== null);
  return {
    sink: sinks.length === 0 ? null : (line, event) => sinks.forEach((s) => s(line, event)),
    onSnapshot: (snapshot) => metrics?.onSnapshot(snapshot),
    close: async () => await metrics?.close(),
  };
}
