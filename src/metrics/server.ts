/**
 * `--metrics`: the /metrics endpoint, a small HTTP/1.1 server of its own over
 * Deno.listen, so that every socket it holds is one it decided to hold. Each
 * snapshot the daemon hands to `onSnapshot` is counted and rendered once; a
 * request gets the text last published (plus the server's own few series),
 * so it never reaches into the daemon: the tick never waits on a client.
 *
 * What a client can cost the daemon is bounded (see README "The /metrics
 * server"; tests/metrics_server_test.ts and tests/metrics_bounds_test.ts):
 * - at most `maxConnections` sockets, well inside the fds the perf counters
 *   leave free (FD_RESERVE in sys/perf/fd_budget.ts). At the cap the oldest
 *   connection that has not sent its request yet (or is done) is closed to
 *   make room, so a flood of idle or slowloris connections cannot lock out a
 *   scrape; when every slot is mid-reply, the new connection is closed;
 * - a connection that sends nothing for `idleMs`, or whose request head is
 *   not complete `headMs` after the accept, or that does not take its reply
 *   within `writeMs`, is closed; a head longer than `maxHeadBytes` gets 431;
 * - one request per connection: the reply says `connection: close`, the
 *   write side is shut after it, and whatever else the client sent
 *   (a pipelined request, a body) is read and discarded for at most
 *   `lingerMs` (so the reply is not lost to a reset), never answered;
 * - HTTP/1.x only: an HTTP/2 preface (h2c) is closed without a reply;
 * - a failing accept (EMFILE, ENFILE...) is counted, reported once per
 *   streak, and retried after a back-off; the listener stays armed;
 * - an address that cannot be bound (a taken port) is reported and retried
 *   with back-off in the background: the daemon runs on without metrics.
 * close() drops every connection at once, so a stop never waits on a client.
 */
import type { Snapshot } from "../core/snapshot.ts";
import { errorMessage } from "../core/error_message.ts";
import { DaemonCounters } from "./daemon_counters.ts";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "./exposition.ts";
import {
  headLength,
  headText,
  parseHead,
  type Reply,
  replyBytes,
  type RequestHead,
} from "./http1.ts";
import { formatListenAddress, type ListenAddress } from "./listen.ts";
import { readSelfStats, selfFamilies } from "./self_metrics.ts";
import { serverExposition, type ServerStats, type TimeoutPhase } from "./server_metrics.ts";
import { type BuildInfo, snapshotExposition } from "./snapshot_metrics.ts";

export interface ServerLimits {
  maxConnections: number;
  idleMs: number;
  headMs: number;
  writeMs: number;
  lingerMs: number;
  /** Bytes read and discarded after a reply before the close, at most. */
  lingerBytes: number;
  maxHeadBytes: number;
}

/**
 * 32 connections: a handful of Prometheus servers need a few; it is half of
 * FD_RESERVE, the fds a full perf-counter budget always leaves free, so the
 * server at its cap and the rest of the daemon both fit beside the counters.
 */
export const LIMITS: Readonly<ServerLimits> = {
  maxConnections: 32,
  idleMs: 5_000,
  headMs: 10_000,
  writeMs: 10_000,
  lingerMs: 1_000,
  lingerBytes: 4 << 20,
  maxHeadBytes: 8192,
};

export interface Backoff {
  firstMs: number;
  maxMs: number;
}

/** Binding again: soon after a squatter leaves, without spinning while it stays. */
export const BIND_RETRY: Readonly<Backoff> = { firstMs: 1_000, maxMs: 30_000 };
/** Accepting again after EMFILE and the like: brief, as fds come back when clients go. */
export const ACCEPT_BACKOFF: Readonly<Backoff> = { firstMs: 50, maxMs: 1_000 };

export type Report = (kind: "error" | "info", message: string) => void;

export interface ServerOptions {
  limits?: Partial<ServerLimits>;
  /** Bind failures and recoveries, accept-error streaks (the daemon's event log). */
  report?: Report;
  /** How the listener is made (a seam for tests); Deno.listen over TCP. */
  listen?: (address: ListenAddress) => Deno.Listener;
  bindRetry?: Backoff;
  acceptBackoff?: Backoff;
}

const encoder = new TextEncoder();
const NOT_YET: Uint8Array<ArrayBuffer> = encoder.encode("# waspd: no tick has completed yet\n");
const TEXT = { "content-type": "text/plain; charset=utf-8" } as const;

type Phase = "head" | "reply" | "linger";
type Timer = ReturnType<typeof setTimeout>;

interface Client {
  readonly conn: Deno.Conn;
  phase: Phase;
  closed: boolean;
  /** The idle timer (re-armed on every read) and the phase's deadline. */
  idle?: Timer | undefined;
  deadline?: Timer | undefined;
}

const tcpListen = (a: ListenAddress): Deno.Listener =>
  Deno.listen({ hostname: a.hostname, port: a.port, transport: "tcp" });

const nextDelay = (previous: number, b: Backoff) =>
  previous === 0 ? b.firstMs : Math.min(b.maxMs, previous * 2);

export class MetricsServer {
  readonly #requested: ListenAddress;
  readonly #limits: ServerLimits;
  readonly #report: Report;
  readonly #listen: (address: ListenAddress) => Deno.Listener;
  readonly #bindRetry: Backoff;
  readonly #acceptBackoff: Backoff;
  readonly #build: BuildInfo;
  readonly #counters = new DaemonCounters();

  #body: Uint8Array<ArrayBuffer> = NOT_YET;
  #ready = false;
  #listener: Deno.Listener | null = null;
  #address: ListenAddress | null = null;
  #closed = false;
  #loop: Promise<void> = Promise.resolve();
  /** Insertion order is age: the oldest first, for choosing whom to close at the cap. */
  readonly #clients = new Set<Client>();
  readonly #tasks = new Set<Promise<void>>();
  #bindDelay = 0;
  #bindTimer: Timer | undefined;
  #lastBindError: string | null = null;
  #wake: (() => void) | null = null;
  readonly #stats: ServerStats;

  /**
   * Bind at once when the address is free (`address` is then set); when it is
   * not, report it and keep trying in the background. Never throws.
   */
  constructor(address: ListenAddress, build: BuildInfo, options: ServerOptions = {}) {
    this.#requested = address;
    this.#build = build;
    this.#limits = { ...LIMITS, ...options.limits };
    this.#report = options.report ?? (() => {});
    this.#listen = options.listen ?? tcpListen;
    this.#bindRetry = options.bindRetry ?? BIND_RETRY;
    this.#acceptBackoff = options.acceptBackoff ?? ACCEPT_BACKOFF;
    this.#stats = {
      open: 0,
      max: this.#limits.maxConnections,
      accepted: 0,
      rejected: 0,
      acceptErrors: 0,
      bindFailures: 0,
      timeouts: { idle: 0, head: 0, write: 0 },
    };
    this.#bind();
  }

  /** The address bound (port 0 picks a free one); null while it is not. */
  get address(): ListenAddress | null {
    return this.#address;
  }

  /** The server's own figures, as its series show them. */
  get stats(): Readonly<ServerStats> {
    return { ...this.#stats, open: this.#clients.size, timeouts: { ...this.#stats.timeouts } };
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

  /** Stop listening and retrying, drop every connection, resolve once all is let go. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#bindTimer);
    this.#wake?.();
    this.#closeListener();
    for (const client of this.#clients) this.#drop(client);
    await this.#loop;
    await Promise.all(this.#tasks);
  }

  #bind(): void {
    this.#bindTimer = undefined;
    if (this.#closed) return;
    let listener: Deno.Listener;
    try {
      listener = this.#listen(this.#requested);
    } catch (error) {
      this.#stats.bindFailures++;
      this.#bindDelay = nextDelay(this.#bindDelay, this.#bindRetry);
      const message = errorMessage(error);
      // Once per cause: a squatter that stays is one event, not one per retry.
      if (message !== this.#lastBindError) {
        this.#lastBindError = message;
        this.#report(
          "error",
          `--metrics ${formatListenAddress(this.#requested)}: ${message}; ` +
            `running without metrics, binding again every ${
              this.#bindRetry.maxMs / 1000
            } s at most`,
        );
      }
      this.#bindTimer = setTimeout(() => this.#bind(), this.#bindDelay);
      return;
    }
    const addr = listener.addr as Deno.NetAddr;
    this.#listener = listener;
    this.#address = { hostname: addr.hostname, port: addr.port };
    this.#bindDelay = 0;
    if (this.#lastBindError !== null) {
      this.#lastBindError = null;
      this.#report("info", `metrics on http://${formatListenAddress(this.#address)}/metrics`);
    }
    this.#loop = this.#acceptLoop(listener);
  }

  #closeListener(): void {
    try {
      this.#listener?.close();
    } catch {
      // already closed
    }
    this.#listener = null;
    this.#address = null;
  }

  async #acceptLoop(listener: Deno.Listener): Promise<void> {
    let delay = 0;
    let streak = 0;
    while (!this.#closed) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#closed) return;
        if (error instanceof Deno.errors.BadResource) {
          // The listener itself is gone: bind it again like a taken port.
          const message = `/metrics: the listener closed (${errorMessage(error)}); binding again`;
          this.#report("error", message);
          this.#closeListener();
          this.#lastBindError = message;
          this.#bind();
          return;
        }
        this.#stats.acceptErrors++;
        if (streak++ === 0) {
          this.#report("error", `/metrics: accepting a connection failed: ${errorMessage(error)}`);
        }
        delay = nextDelay(delay, this.#acceptBackoff);
        await this.#pause(delay);
        continue;
      }
      if (streak > 0) {
        this.#report("info", `/metrics: accepting again after ${streak} failed accepts`);
        streak = 0;
        delay = 0;
      }
      this.#admit(conn);
    }
  }

  /** Sleep `ms`, or less when close() comes first. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  #admit(conn: Deno.Conn): void {
    this.#stats.accepted++;
    if (this.#clients.size >= this.#limits.maxConnections) {
      this.#stats.rejected++;
      const victim = this.#victim();
      if (victim === null) {
        closeQuietly(conn);
        return;
      }
      this.#drop(victim);
    }
    const client: Client = { conn, phase: "head", closed: false };
    this.#clients.add(client);
    const task = this.#serve(client).finally(() => this.#tasks.delete(task));
    this.#tasks.add(task);
  }

  /** Whom to close at the cap: one that is done, else the oldest still to send its request. */
  #victim(): Client | null {
    let waiting: Client | null = null;
    for (const c of this.#clients) {
      if (c.phase === "linger") return c;
      if (c.phase === "head" && waiting === null) waiting = c;
    }
    return waiting;
  }

  #drop(client: Client): void {
    if (client.closed) return;
    client.closed = true;
    clearTimeout(client.idle);
    clearTimeout(client.deadline);
    this.#clients.delete(client);
    closeQuietly(client.conn);
  }

  #deadline(client: Client, ms: number, phase: TimeoutPhase | null): void {
    clearTimeout(client.deadline);
    client.deadline = setTimeout(() => this.#timedOut(client, phase), ms);
  }

  #timedOut(client: Client, phase: TimeoutPhase | null): void {
    if (client.closed) return;
    if (phase !== null) this.#stats.timeouts[phase]++;
    this.#drop(client);
  }

  async #serve(client: Client): Promise<void> {
    try {
      const head = await this.#readHead(client);
      clearTimeout(client.idle);
      if (head === null || head.kind === "other-version") return;
      const reply = this.#reply(head);
      client.phase = "reply";
      this.#deadline(client, this.#limits.writeMs, "write");
      await writeAll(client.conn, replyBytes(reply));
      client.phase = "linger";
      this.#deadline(client, this.#limits.lingerMs, null);
      await client.conn.closeWrite();
      await this.#drain(client);
    } catch {
      // The client went away, or was dropped (a timeout, the cap, close()).
    } finally {
      this.#drop(client);
    }
  }

  /** The request head, or null when the client closed or was dropped before sending it. */
  async #readHead(client: Client): Promise<RequestHead | { kind: "too-large" } | null> {
    const buf = new Uint8Array(this.#limits.maxHeadBytes);
    let used = 0;
    this.#deadline(client, this.#limits.headMs, "head");
    while (used < buf.length) {
      clearTimeout(client.idle);
      client.idle = setTimeout(() => this.#timedOut(client, "idle"), this.#limits.idleMs);
      const n = await client.conn.read(buf.subarray(used));
      if (n === null || client.closed) return null;
      const from = Math.max(0, used - 2);
      used += n;
      const end = headLength(buf.subarray(0, used), from);
      if (end >= 0) return parseHead(headText(buf.subarray(0, end)));
    }
    return { kind: "too-large" };
  }

  /** Read and discard what else the client sent, so the close does not reset away the reply. */
  async #drain(client: Client): Promise<void> {
    const sink = new Uint8Array(16384);
    let total = 0;
    while (total < this.#limits.lingerBytes) {
      const n = await client.conn.read(sink);
      if (n === null) return;
      total += n;
    }
  }

  #reply(head: Exclude<RequestHead, { kind: "other-version" }> | { kind: "too-large" }): Reply {
    if (head.kind === "bad") return text(400, "bad request\n");
    if (head.kind === "too-large") return text(431, "request head too large\n");
    if (head.path !== "/metrics") return text(404, "not found: waspd serves /metrics only\n");
    if (head.method !== "GET" && head.method !== "HEAD") {
      return { ...text(405, "method not allowed\n"), headers: { ...TEXT, allow: "GET, HEAD" } };
    }
    const body = this.#ready
      ? concat(
        this.#body,
        encoder.encode(
          serverExposition(this.stats) + renderExposition(selfFamilies(readSelfStats())),
        ),
      )
      : NOT_YET;
    return {
      // 503 before the first tick; HEAD answers as GET would, without the body.
      status: this.#ready ? 200 : 503,
      headers: { "content-type": EXPOSITION_CONTENT_TYPE },
      body,
      omitBody: head.method === "HEAD",
    };
  }
}

function text(status: number, body: string): Reply {
  return { status, headers: TEXT, body: encoder.encode(body) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
