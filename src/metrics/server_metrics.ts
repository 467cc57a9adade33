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

/** The one-number families: name, type, help, and the count it shows. */
const SCALARS: readonly (readonly [string, Family["type"], string, (s: ServerStats) => number])[] =
  [
    [
      "waspd_http_connections_open",
      "gauge",
      "Connections the /metrics server holds now, this scrape's included",
      (s) => s.open,
    ],
    [
      "waspd_http_connections_max",
      "gauge",
      "The most connections the /metrics server holds at once",
      (s) => s.max,
    ],
    [
      "waspd_http_connections_total",
      "counter",
      "Connections accepted by the /metrics server",
      (s) => s.accepted,
    ],
    [
      "waspd_http_connections_rejected_total",
      "counter",
      "Connections closed because the cap was reached",
      (s) => s.rejected,
    ],
    [
      "waspd_http_accept_errors_total",
      "counter",
      "Failed accepts (EMFILE, ENFILE...), each followed by a back-off",
      (s) => s.acceptErrors,
    ],
    [
      "waspd_http_bind_failures_total",
      "counter",
      "Failed attempts to bind the --metrics address before it was bound",
      (s) => s.bindFailures,
    ],
  ];

export function serverFamilies(s: Readonly<ServerStats>): Family[] {
  return [
    ...SCALARS.map(([name, type, help, value]): Family => ({
      name,
      type,
      help,
      samples: [{ value: value(s) }],
    })),
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
