import assert from "node:assert/strict";
import { EXPOSITION_CONTENT_TYPE } from "../src/metrics/exposition.ts";
import { MetricsServer } from "../src/metrics/server.ts";

const LOOPBACK = "127.0.0.1";
const encoder = new TextEncoder();
const BUILD = { version: "0.0.0-test", deno: "2.9.6" };

async function get(port: number, path: string, method = "GET"): Promise<Response> {
  return await fetch(`http://${LOOPBACK}:${port}${path}`, { method });
}

/** First line of the raw response on `conn`, or why there was none. */
async function statusLine(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(1024);
  const n = await conn.read(buf).catch((e) => e as Error);
  if (n instanceof Error) return `error: ${n.name}`;
  if (n === null) return "closed";
  return new TextDecoder().decode(buf.subarray(0, n)).split("\r\n")[0] ?? "";
}

/** A server on a free loopback port for `use`, closed afterwards whatever happens. */
async function withServer(use: (server: MetricsServer) => Promise<void>): Promise<void> {
  const server = new MetricsServer({ hostname: LOOPBACK, port: 0 }, BUILD);
  try {
    await use(server);
  } finally {
    await server.close();
  }
}

Deno.test("serves the published text on GET and HEAD /metrics, 503 before the first tick", () =>
  withServer(async (server) => {
    const early = await get(server.address!.port, "/metrics");
    assert.equal(early.status, 503);
    await early.body?.cancel();
    const earlyHead = await get(server.address!.port, "/metrics", "HEAD");
    assert.equal(earlyHead.status, 503, "HEAD agrees with GET before the first tick");
    await earlyHead.body?.cancel();
    server.publish("waspd_up 1\n");
    const r = await get(server.address!.port, "/metrics");
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("content-type"), EXPOSITION_CONTENT_TYPE);
    assert.equal(r.headers.get("connection"), "close");
    // The published text first, then the server's own series.
    assert.match(await r.text(), /^waspd_up 1\n# HELP waspd_http_connections_open /);
    const head = await get(server.address!.port, "/metrics", "HEAD");
    assert.equal(head.status, 200);
    await head.body?.cancel();
  }));

Deno.test("other paths get 404, other methods 405", () =>
  withServer(async (server) => {
    server.publish("x 1\n");
    for (const path of ["/", "/metrics/", "/metricsx", "/debug"]) {
      const r = await get(server.address!.port, path);
      assert.equal(r.status, 404, path);
      await r.body?.cancel();
    }
    const post = await fetch(`http://${LOOPBACK}:${server.address!.port}/metrics`, {
      method: "POST",
      body: "x".repeat(1 << 20),
    });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    await post.body?.cancel();
  }));

Deno.test("a huge request head is refused and the server keeps serving", () =>
  withServer(async (server) => {
    server.publish("x 1\n");
    const conn = await Deno.connect({ hostname: LOOPBACK, port: server.address!.port });
    const head = `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(2_000_000)}\r\n\r\n`;
    await conn.write(encoder.encode(head)).catch(() => 0);
    assert.match(await statusLine(conn), /^(HTTP\/1\.1 4\d\d|closed|error)/);
    conn.close();
    const r = await get(server.address!.port, "/metrics");
    assert.match(await r.text(), /^x 1\n/);
  }));

Deno.test("1000 half-sent requests (slowloris) do not stop scrapes, nor a prompt close", async () => {
  const server = new MetricsServer({ hostname: LOOPBACK, port: 0 }, BUILD);
  const conns: Deno.Conn[] = [];
  try {
    server.publish("x 1\n");
    for (let i = 0; i < 1000; i++) {
      const c = await Deno.connect({ hostname: LOOPBACK, port: server.address!.port });
      conns.push(c);
      await c.write(encoder.encode("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
    }
    for (let i = 0; i < 5; i++) {
      const r = await get(server.address!.port, "/metrics");
      assert.equal(r.status, 200);
      assert.match(await r.text(), /^x 1\n/);
    }
  } finally {
    // Shutdown drops the half-sent requests rather than waiting for them.
    await server.close();
    const closed = await statusLine(conns[0]!);
    assert.match(closed, /^(closed|error)/);
    for (const c of conns) c.close();
  }
});
