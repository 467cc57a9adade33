/**
 * `--metrics [HOST:]PORT`: where the /metrics server listens. A bare port
 * binds the loopback address only; exposing the metrics to the network takes
 * an explicit address (`0.0.0.0:9110`, `[::]:9110`, `10.0.0.5:9110`). Pure;
 * throws ConfigError with the one line a user sees.
 */
import { ConfigError } from "../config.ts";

/**
 * The default port: 9110, in Prometheus's exporter range (9100-9999). Its
 * allocation on the "Default port allocations" wiki page belonged to the
 * Blackbox prober and is marked DEPRECATED there (the Blackbox exporter uses
 * 9115), so no maintained exporter listens on it. See README "Monitor a fleet".
 */
export const DEFAULT_METRICS_PORT = 9110;

export interface ListenAddress {
  hostname: string;
  port: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** Letters, digits, dots, hyphens: a DNS name (resolved by the listener). */
const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62})(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}))*$/;

function parsePort(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text)) {
    throw new ConfigError(`--metrics: '${whole}' needs a port number ([HOST:]PORT)`);
  }
  const port = Number(text);
  // 0 asks the kernel for a free port; waspd logs the one it got.
  if (port > 65535) {
    throw new ConfigError(`--metrics: port ${text} is outside 0-65535`);
  }
  return port;
}

function checkHost(host: string, whole: string): string {
  const v4 = IPV4.exec(host);
  if (v4 !== null) {
    if (v4.slice(1).some((octet) => Number(octet) > 255)) {
      throw new ConfigError(`--metrics: '${host}' is not an IPv4 address`);
    }
    return host;
  }
  if (host.includes(":")) {
    // Deno.serve takes the address without brackets; the URL parser checks it.
    try {
      new URL(`http://[${host}]/`);
    } catch {
      throw new ConfigError(`--metrics: '${host}' is not an IPv6 address`);
    }
    return host;
  }
  if (HOSTNAME.test(host) && host.length <= 253) return host;
  throw new ConfigError(`--metrics: '${whole}' has no valid host before the port`);
}

/** Parse `PORT`, `HOST:PORT` or `[IPV6]:PORT`. */
export function parseListenAddress(text: string): ListenAddress {
  const whole = text.trim();
  if (whole === "") throw new ConfigError("--metrics: give a port or HOST:PORT");
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(whole);
  if (bracketed !== null) {
    const host = bracketed[1] ?? "";
    if (!host.includes(":")) throw new ConfigError(`--metrics: '[${host}]' is not an IPv6 address`);
    return { hostname: checkHost(host, whole), port: parsePort(bracketed[2] ?? "", whole) };
  }
  const colon = whole.lastIndexOf(":");
  if (colon === -1) return { hostname: "127.0.0.1", port: parsePort(whole, whole) };
  const host = whole.slice(0, colon);
  if (host.includes(":")) {
    throw new ConfigError(`--metrics: write an IPv6 address in brackets, e.g. [::1]:9110`);
  }
  if (host === "") throw new ConfigError(`--metrics: '${whole}' has no host before ':'`);
  return { hostname: checkHost(host, whole), port: parsePort(whole.slice(colon + 1), whole) };
}

/** How an address is written back (IPv6 in brackets), for messages and scrape configs. */
export function formatListenAddress(a: ListenAddress): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}
