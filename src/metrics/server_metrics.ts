/**
 * The /metrics server's own series: how many connections it holds and how
 * many it had to refuse, time out or failed to accept, so an attack or an fd
 * shortage shows on the dashboards it would otherwise hide from. Pure.
 */
import { type Family, renderExposition } from "./exposition.ts";

export type TimeoutPhase = "idle" | "head" | "write";
export const TIMEOUT_PHASES: readonly TimeoutPhase[] = ["idle", "head", "write"];

export interface ServerStats {
  /** Connections held now. */
  open: number;
  /** The most it holds at once. */
  max: number;
  /** Connections accepted since start. */
  accepted: number;
  /** Connections closed because the cap was reached. */
  rejected: number;
  /** accept() failures (EMFILE, ENFILE, ENOBUFS...), each followed by a back-off. */
  acceptErrors: number;
  /** Failed attempts to bind the listening address (a taken port). */
  bindFailures: number;
  timeouts: Record<TimeoutPhase, number>;
}

export function serverFamilies(s: Readonly<ServerStats>): Family[] {
  return [
    {
      name: "waspd_http_connections_open",
      type: "gauge",
      help: "Connections the /metrics server holds now, this scrape's included",
      samples: [{ value: s.open }],
    },
    {
      name: "waspd_http_connections_max",
      type: "gauge",
      help: "The most connections the /metrics server holds at once",
      samples: [{ value: s.max }],
    },
    {
      name: "waspd_http_connections_total",
      type: "counter",
      help: "Connections accepted by the /metrics server",
      samples: [{ value: s.accepted }],
    },
    {
      name: "waspd_http_connections_rejected_total",
      type: "counter",
      help: "Connections closed because the cap was reached",
      samples: [{ value: s.rejected }],
    },
    {
      name: "waspd_http_accept_errors_total",
      type: "counter",
      help: "Failed accepts (EMFILE, ENFILE...), each followed by a back-off",
      samples: [{ value: s.acceptErrors }],
    },
    {
      name: "waspd_http_bind_failures_total",
      type: "counter",
      help: "Failed attempts to bind the --metrics address before it was bound",
      samples: [{ value: s.bindFailures }],
    },
    {
      name: "waspd_http_timeouts_total",
      type: "counter",
      help: "Connections closed for taking too long, by phase (idle, head, write)",
      samples: TIMEOUT_PHASES.map((phase) => ({ labels: { phase }, value: s.timeouts[phase] })),
    },
  ];
}

export function serverExposition(s: Readonly<ServerStats>): string {
  return renderExposition(serverFamilies(s));
}
