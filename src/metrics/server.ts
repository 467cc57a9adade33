/**
 * `--metrics`: the /metrics endpoint, on Deno.serve, bound when constructed
 * (so a taken port fails before waspd touches the kernel). Each snapshot the
 * daemon hands to `onSnapshot` is counted and rendered once; a request only
 * ever gets the text last published, so it costs no work and never reaches
 * into the daemon: the tick never waits on a client.
 *
 * Against hostile clients (tests/metrics_server_test.ts and
 * tests/metrics_hostile_test.ts):
 * - every response closes its connection, so no idle keep-alive is held;
 * - request bodies are never read (GET has none; anything else gets 405);
 * - the request head is bounded by Deno's HTTP parser (hyper): an oversized
 *   head gets 400 and the connection is dropped;
 * - a slowloris connection (a head that never ends) never reaches this code.
 *   Deno 2.9.6 has no header-read timeout, so such a connection holds one fd
 *   until the client goes; it costs the daemon nothing else. The default
 *   bind is loopback, and the unit's IPAddressAllow= limits who may connect.
 */
import type { Snapshot } from "../core/snapshot.ts";
import { DaemonCounters } from "./daemon_counters.ts";
import { EXPOSITION_CONTENT_TYPE } from "./exposition.ts";
import type { ListenAddress } from "./listen.ts";
import { type BuildInfo, snapshotExposition } from "./snapshot_metrics.ts";

const encoder = new TextEncoder();
const NOT_YET: Uint8Array<ArrayBuffer> = encoder.encode("# waspd: no tick has completed yet\n");

export class MetricsServer {
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  #body: Uint8Array<ArrayBuffer> = NOT_YET;
  #ready = false;
  readonly #counters = new DaemonCounters();
  readonly #build: BuildInfo;
  /** The address actually bound (port 0 picks a free one). */
  readonly address: ListenAddress;

  /** Bind and serve; throws Deno's error (AddrInUse, PermissionDenied...) when it cannot. */
  constructor(address: ListenAddress, build: BuildInfo) {
    this.#build = build;
    this.#server = Deno.serve({
      hostname: address.hostname,
      port: address.port,
      // Without onListen Deno prints "Listening on ..." to stdout, which
      // belongs to --json and --headless.
      onListen: () => {},
      onError: () => text(500, "internal error\n"),
    }, (request: Request) => this.#handle(request));
    this.address = { hostname: this.#server.addr.hostname, port: this.#server.addr.port };
  }

  /** Count this snapshot and serve the text that describes it from now on. */
  onSnapshot(snapshot: Snapshot): void {
    this.publish(snapshotExposition(snapshot, this.#counters, this.#build));
  }

  /** Replace the text served from now on. */
  publish(text: string): void {
    this.#body = encoder.encode(text);
    this.#ready = true;
  }

  /** Stop accepting, end open connections, and resolve once the server is down. */
  async close(): Promise<void> {
    await this.#server.shutdown();
  }

  #handle(request: Request): Response {
    const path = new URL(request.url).pathname;
    if (path !== "/metrics") return text(404, "not found: waspd serves /metrics only\n");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "method not allowed\n", { allow: "GET, HEAD" });
    }
    const headers = { ...CLOSE, "content-type": EXPOSITION_CONTENT_TYPE };
    // HEAD answers as GET would (503 before the first tick), without the body.
    const body = request.method === "HEAD" ? null : this.#body;
    return new Response(body, { status: this.#ready ? 200 : 503, headers });
  }
}

const CLOSE = { connection: "close" } as const;

function text(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { ...CLOSE, ...extra, "content-type": "text/plain; charset=utf-8" },
  });
}
