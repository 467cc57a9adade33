/**
 * `--metrics` as the daemon command uses it: bind the server first (so a
 * taken port fails before waspd touches the kernel), then give every
 * snapshot to `onSnapshot`, which counts it, renders the text and publishes
 * it. The server itself never calls into the daemon.
 */
import type { Snapshot } from "../core/snapshot.ts";
import type { ListenAddress } from "./listen.ts";
import { MetricsRecorder } from "./metrics.ts";
import { MetricsServer } from "./server.ts";
import type { BuildInfo } from "./snapshot_metrics.ts";

export interface MetricsEndpoint {
  /** The address bound (the port the kernel chose, for port 0). */
  readonly address: ListenAddress;
  onSnapshot(snapshot: Snapshot): void;
  close(): Promise<void>;
}

export function openMetricsEndpoint(address: ListenAddress, build: BuildInfo): MetricsEndpoint {
  const server = MetricsServer.listen(address);
  const recorder = new MetricsRecorder(build);
  return {
    address: server.address,
    onSnapshot: (snapshot) => server.publish(recorder.record(snapshot)),
    close: () => server.close(),
  };
}
