/**
 * What a client can cost the /metrics server, in process: the connection
 * cap, the idle, head and write timeouts, one request per connection
 * (the reply's `connection: close` holds, a pipelined request is never
 * served), HTTP/2
 * refused, accept errors survived (injected through the `listen` seam), and
 * a taken port retried in the background instead of thrown. Short limits
 * keep it quick; every wait has a hang guard, no figure is a speed limit.
 */
import assert from "node:assert/strict";
import { type Backoff, MetricsServer, type ServerOptions } from "../src/metrics/server.ts";
import type { ListenAddress } from "../src/metrics/listen.ts";
import { before, poll } from "./support/poll.ts";

const LOOPBACK = "127.0.0.1";
const BUILD = { version: "0.0.0-test", deno: "2.9.6" };
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Hang guard for one wait: far above any limit a test sets. */
const GUARD_MS = 10_000;
const FAST: Backoff = { firstMs: 20, maxMs: 100 };

type Ending = "eof" | "reset" | "guard";

/** Everything the server sends on `conn` until it ends the connection (or the guard). */
async function readToEnd(conn: Deno.Conn): Promise<{ text: string; ending: Ending }> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const got = await before(conn.read(buf).catch(() => "reset" as const), GUARD_MS);
    const ending: Ending | null = got === "not yet"
      ? "guard"
      : got.value === "reset"
      ? "reset"
      : got.value === null
      ? "eof"
      : null;
    if (ending !== null) return { text: chunks.map((c) => decoder.decode(c)).join(""), ending };
    chunks.push(buf.slice(0, got === "not yet" ? 0 : got.value as number));
  }
}

const statusLines = (text: string) => text.match(/^HTTP\/1\.1 \d{3}/gm) ?? [];

async function withServer(
  options: ServerOptions,
  use: (server: MetricsServer, port: number) => Promise<void>,
  address: ListenAddress = { hostname: LOOPBACK, port: 0 },
): Promise<void> {
  const server = new MetricsServer(address, BUILD, options);
  try {
    server.publish("x 1\n");
    await use(server, server.address?.port ?? address.port);
  } finally {
    await server.close();
  }
}

const connect = (port: number) => Deno.connect({ hostname: LOOPBACK, port });

async function scrapeStatus(port: number): Promise<number> {
  const r = await fetch(`http://${LOOPBACK}:${port}/metrics`);
  await r.body?.cancel();
  return r.status;
}

function closeAll(conns: Deno.Conn[]): void {
  for (const c of conns) {
    try {
      c.close();
    } catch {
      // closed by the server
    }
  }
}

Deno.test("the reply's connection: close holds: the socket ends after it, asked or not", () =>
  withServer({}, async (_server, port) => {
    for (const asked of ["", "Connection: close\r\n", "Connection: keep-alive\r\n"]) {
      using conn = await connect(port);
      await conn.write(encoder.encode(`GET /metrics HTTP/1.1\r\nHost: x\r\n${asked}\r\n`));
      const { text, ending } = await readToEnd(conn);
      assert.equal(
        ending,
        "eof",
        `the server must end the connection after its reply (${asked})`,
      );
      assert.deepEqual(statusLines(text), ["HTTP/1.1 200"]);
      assert.match(text, /\r\nconnection: close\r\n/);
    }
  }));

Deno.test("pipelined requests: only the first is served", () =>
  withServer({}, async (_server, port) => {
    using conn = await connect(port);
    const one = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    await conn.write(encoder.encode(one + one + one));
    const { text, ending } = await readToEnd(conn);
    assert.equal(ending, "eof");
    assert.equal(statusLines(text).length, 1, `one response only, got:\n${text}`);
  }));

Deno.test("an HTTP/2 preface (h2c prior knowledge) is closed without a reply", () =>
  withServer({}, async (_server, port) => {
    using conn = await connect(port);
    const settings = new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    await conn.write(encoder.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    await conn.write(settings).catch(() => 0);
    const { text, ending } = await readToEnd(conn);
    assert.notEqual(ending, "guard", "an h2c connection must not be held");
    assert.equal(text, "");
    assert.equal(await scrapeStatus(port), 200);
  }));

Deno.test("idle timeout: a connection that sends nothing is closed and counted", () =>
  withServer({ limits: { idleMs: 150, headMs: GUARD_MS } }, async (server, port) => {
    using conn = await connect(port);
    const { ending } = await readToEnd(conn);
    assert.notEqual(ending, "guard");
    assert.equal(server.stats.timeouts.idle, 1);
    assert.equal(server.stats.open, 0);
  }));

Deno.test("head timeout: a head trickled a byte at a time (slowloris) is cut off", () =>
  withServer({ limits: { idleMs: 2_000, headMs: 300 } }, async (server, port) => {
    const conn = await connect(port);
    let trickling = true;
    const trickle = (async () => {
      await conn.write(encoder.encode("GET /metrics HTTP/1.1\r\n"));
      while (trickling) {
        if (await conn.write(encoder.encode("X")).catch(() => null) === null) return;
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    try {
      const { text, ending } = await readToEnd(conn);
      assert.notEqual(ending, "guard");
      assert.equal(text, "");
      assert.equal(server.stats.timeouts.head, 1);
      assert.equal(server.stats.timeouts.idle, 0, "the bytes kept it from idling");
    } finally {
      trickling = false;
      await trickle;
      conn.close();
    }
  }));

Deno.test("the cap: the oldest silent connection makes room, scrapes still answer", () =>
  withServer({ limits: { maxConnections: 4 } }, async (server, port) => {
    const conns: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 4; i++) conns.push(await connect(port));
      await poll("four connections held", GUARD_MS, () => server.stats.open === 4 || null);
      conns.push(await connect(port));
      // The first (oldest) connection is the one closed.
      const { ending } = await readToEnd(conns[0]!);
      assert.notEqual(ending, "guard");
      assert.equal(server.stats.rejected, 1);
      assert.equal(server.stats.open, 4);
      for (let i = 0; i < 3; i++) assert.equal(await scrapeStatus(port), 200);
      assert.ok(server.stats.open <= 4);
    } finally {
      closeAll(conns);
    }
  }));

/** A reply far larger than the socket buffers, so a client that does not read holds it up. */
const HUGE = "#".repeat(16 << 20) + "\n";

Deno.test("the cap with every slot mid-reply: the new connection is closed", () =>
  withServer({ limits: { maxConnections: 2 } }, async (server, port) => {
    server.publish(HUGE);
    const readers: Deno.Conn[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const c = await connect(port);
        readers.push(c);
        await c.write(encoder.encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
        // The reply has begun: a few bytes read, the rest never.
        assert.ok(await c.read(new Uint8Array(16)));
      }
      const late = await connect(port);
      try {
        const { text, ending } = await readToEnd(late);
        assert.notEqual(ending, "guard");
        assert.equal(text, "");
      } finally {
        late.close();
      }
      assert.equal(server.stats.rejected, 1);
      assert.equal(server.stats.open, 2);
    } finally {
      closeAll(readers);
    }
  }));

Deno.test("write timeout: a client that does not take its reply is cut off", () =>
  withServer({ limits: { writeMs: 300 } }, async (server, port) => {
    server.publish(HUGE);
    const reader = await connect(port);
    try {
      await reader.write(encoder.encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
      await poll("the write timeout", GUARD_MS, () => server.stats.timeouts.write === 1 || null);
      assert.equal(server.stats.open, 0);
      // What was in flight arrives, then the end: never the whole reply.
      const { text, ending } = await readToEnd(reader);
      assert.notEqual(ending, "guard");
      assert.ok(text.length < HUGE.length);
    } finally {
      reader.close();
    }
  }));

Deno.test("the server's own series are in a scrape", () =>
  withServer({}, async (_server, port) => {
    const r = await fetch(`http://${LOOPBACK}:${port}/metrics`);
    const body = await r.text();
    assert.match(body, /^waspd_http_connections_open 1$/m);
    assert.match(body, /^waspd_http_connections_max 32$/m);
    assert.match(body, /^waspd_http_connections_total 1$/m);
    assert.match(body, /^waspd_http_timeouts_total\{phase="head"\} 0$/m);
  }));

/** Deno.listen, with accept() failing as EMFILE would for the first `failures` calls. */
function failingAccepts(failures: number) {
  let left = failures;
  return (a: ListenAddress): Deno.Listener => {
    const real = Deno.listen({ hostname: a.hostname, port: a.port });
    return new Proxy(real, {
      get(target, key) {
        if (key === "accept") {
          return () => {
            if (left-- > 0) return Promise.reject(new Error("Too many open files (os error 24)"));
            return target.accept();
          };
        }
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
}

Deno.test("accept errors are survived: counted, reported once, the listener re-armed", async () => {
  const reports: string[] = [];
  await withServer({
    listen: failingAccepts(3),
    acceptBackoff: FAST,
    report: (kind, message) => reports.push(`${kind}: ${message}`),
  }, async (server, port) => {
    assert.equal(await scrapeStatus(port), 200);
    assert.equal(server.stats.acceptErrors, 3);
    assert.equal(reports.length, 2, reports.join("\n"));
    assert.match(
      reports[0]!,
      /^error: \/metrics: accepting a connection failed: Too many open files/,
    );
    assert.match(reports[1]!, /^info: \/metrics: accepting again after 3 failed accepts/);
  });
});

/** A port that was free a moment ago. */
function freePort(): number {
  const l = Deno.listen({ hostname: LOOPBACK, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("a listener that dies under accept is bound again", async () => {
  const port = freePort();
  let binds = 0;
  const listen = (a: ListenAddress): Deno.Listener => {
    const real = Deno.listen({ hostname: a.hostname, port: a.port });
    if (++binds > 1) return real;
    // The first listener is closed under the pending accept.
    setTimeout(() => real.close(), 50);
    return real;
  };
  const reports: string[] = [];
  const report = (kind: string, message: string) => reports.push(`${kind}: ${message}`);
  await withServer({ listen, bindRetry: FAST, report }, async (server) => {
    await poll("the second bind", GUARD_MS, () => binds === 2 || null);
    assert.equal(server.address?.port, port);
    assert.equal(await scrapeStatus(port), 200);
    assert.equal(reports.length, 2, reports.join("\n"));
    assert.match(reports[0]!, /^error: \/metrics: the listener closed .*; binding again$/);
    assert.equal(reports[1], `info: metrics on http://127.0.0.1:${port}/metrics`);
  }, { hostname: LOOPBACK, port });
});

Deno.test("a taken port: no throw, one error report, bound once the port is free", async () => {
  const holder = Deno.listen({ hostname: LOOPBACK, port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  const reports: string[] = [];
  let held = true;
  try {
    await withServer({
      bindRetry: FAST,
      report: (kind, message) => reports.push(`${kind}: ${message}`),
    }, async (server) => {
      assert.equal(server.address, null);
      await poll("several failed binds", GUARD_MS, () => server.stats.bindFailures >= 3 || null);
      // One report for the cause, not one per retry.
      assert.equal(reports.length, 1, reports.join("\n"));
      assert.match(
        reports[0]!,
        new RegExp(`^error: --metrics 127\\.0\\.0\\.1:${port}: .*in use`, "i"),
      );
      holder.close();
      held = false;
      const bound = await poll("the bind", GUARD_MS, () => server.address);
      assert.equal(bound.port, port);
      assert.equal(await scrapeStatus(port), 200);
      assert.equal(reports[1], `info: metrics on http://127.0.0.1:${port}/metrics`);
    }, { hostname: LOOPBACK, port });
  } finally {
    if (held) holder.close();
  }
});

Deno.test("close() ends held connections (idle, half-sent, h2c) at once", async () => {
  const server = new MetricsServer({ hostname: LOOPBACK, port: 0 }, BUILD);
  const port = server.address!.port;
  const conns = [await connect(port), await connect(port), await connect(port)];
  try {
    await conns[1]!.write(encoder.encode("GET /metrics HTTP/1.1\r\n"));
    await conns[2]!.write(encoder.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    await poll("the connections accepted", GUARD_MS, () => server.stats.accepted === 3 || null);
    assert.notEqual(await before(server.close(), GUARD_MS), "not yet", "close() hung");
    for (const c of conns) assert.notEqual((await readToEnd(c)).ending, "guard");
  } finally {
    closeAll(conns);
    await server.close();
  }
});
