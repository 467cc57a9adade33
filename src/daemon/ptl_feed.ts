/**
 * The daemon's PTL measurements: the scheduler set up from the config, and
 * what a result does (the latency state updated, a log line, new steering
 * pushed to the kernel when enforcing).
 */
import type { EventLog } from "../core/events.ts";
import type { Config } from "../options.ts";
import type { Host } from "../host.ts";
import type { Actuator } from "./actuator.ts";
import type { LatencyState } from "./latency_state.ts";
import { type PtlMeasured, PtlScheduler } from "./ptl.ts";
import type { LiveMachine } from "./tick.ts";

export interface PtlFeedParts {
  host: Host;
  config: Config;
  events: EventLog;
  actuator: Actuator;
  latency: LatencyState;
  live: LiveMachine;
  enforcing: boolean;
}

/** The scheduler of the background PTL measurements, each result fed to `latency`. */
export function ptlFeed(p: PtlFeedParts): PtlScheduler {
  const onMeasurement = (r: PtlMeasured): void => {
    const news = p.latency.measured(r.measurement, r);
    if (news.log !== null) p.events.emit("probe", news.log);
    if (news.changed && p.enforcing) {
      p.actuator.pushSteering(news.array, "latency matrix changed");
    }
  };
  const onError = (error: string): void => {
    p.latency.failed(error);
    p.events.emit("error", `PTL measurement failed: ${error}`);
  };
  return new PtlScheduler({
    prober: p.host.prober,
    refresher: p.host.refresher,
    clock: p.host.clock,
    intervalMs: p.config.ptlIntervalMs,
    budget: {
      cpuFraction: p.config.ptlCpuPercent / 100,
      memoryBytes: p.config.ptlMemoryMb * 1024 * 1024,
    },
    topology: async () => (p.live.topology = await p.host.topology()),
    onResult: (r) => "measurement" in r ? onMeasurement(r) : onError(r.error),
  });
}
