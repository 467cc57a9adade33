/**
 * The daemon's unattended outputs, set up before the daemon starts: the
 * `--headless` event lines (an EventLog sink) and `--metrics` (bound first
 * when it can be: a taken port is an error event and a bind retried in the
 * background, never a stop), which takes each snapshot.
 */
import type { Config } from "../options.ts";
import type { EventSink } from "../core/events.ts";
import type { Snapshot } from "../core/snapshot.ts";
import { formatListenAddress } from "../metrics/listen.ts";
import { MetricsServer, type Report } from "../metrics/server.ts";
import { HEADLESS_LEVELS, headlessSink, journalMode } from "../ui/headless.ts";
import { VERSION } from "../cli.ts";
import type { Output } from "../sys/stdio.ts";

/**
 * With --headless: the sink that writes each event as its line on stdout;
 * `failed` hears the first failed write (no line is written after it).
 * Null without --headless.
 */
export function headlessOutput(
  config: Config,
  io: Output,
  env: { JOURNAL_STREAM?: string | undefined },
  failed: (error: unknown) => void,
): EventSink | null {
  if (!config.headless) return null;
  return headlessSink(io.out, journalMode(env), failed, HEADLESS_LEVELS[config.headlessLevel]);
}

/** `--metrics`: takes each snapshot; disposing of it stops the server. */
export interface MetricsOutput extends AsyncDisposable {
  onSnapshot(snapshot: Snapshot): void;
}

/**
 * The --metrics server, listening from now on (or nothing without
 * --metrics); `report` hears what it has to say (a port it cannot bind,
 * accepts failing), for the event log.
 */
export function metricsOutput(config: Config, io: Output, report: Report): MetricsOutput {
  let metrics: MetricsServer | null = null;
  if (config.metrics !== null) {
    const build = { version: VERSION, deno: Deno.version.deno };
    metrics = new MetricsServer(config.metrics, build, { report });
    // Bound later, it says so in an event: stderr may be the live screen's by then.
    if (metrics.address !== null) {
      io.err(`waspd: metrics on http://${formatListenAddress(metrics.address)}/metrics\n`);
    }
  }
  return {
    onSnapshot: (snapshot) => metrics?.onSnapshot(snapshot),
    [Symbol.asyncDispose]: async () => await metrics?.close(),
  };
}
