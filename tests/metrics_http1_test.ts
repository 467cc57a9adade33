import assert from "node:assert/strict";
import { headLength, parseHead, replyBytes } from "../src/metrics/http1.ts";
import { LIMITS } from "../src/metrics/server.ts";
import { FD_RESERVE } from "../src/sys/perf/fd_budget.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("headLength: the blank line ends a head (CRLF or bare LF), nothing before it does", () => {
  assert.equal(headLength(bytes("GET / HTTP/1.1\r\nHost: x\r\n")), -1);
  assert.equal(headLength(bytes("GET / HTTP/1.1\r\n\r\nGET /x")), 18);
  assert.equal(headLength(bytes("GET / HTTP/1.1\n\nrest")), 16);
  assert.equal(headLength(bytes("")), -1);
});

Deno.test("parseHead: the method and path; HTTP/2 and other versions apart; junk is bad", () => {
  assert.deepEqual(parseHead("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"), {
    kind: "request",
    method: "GET",
    path: "/metrics",
  });
  assert.deepEqual(parseHead("HEAD http://h:9110/metrics HTTP/1.0\r\n\r\n"), {
    kind: "request",
    method: "HEAD",
    path: "/metrics",
  });
  // A protocol-relative target stays a path, never a host.
  assert.deepEqual(parseHead("GET //evil/metrics HTTP/1.1\r\n\r\n"), {
    kind: "request",
    method: "GET",
    path: "//evil/metrics",
  });
  assert.deepEqual(parseHead("PRI * HTTP/2.0\r\n\r\n"), { kind: "other-version" });
  assert.deepEqual(parseHead("GET / HTTP/3.0\r\n\r\n"), { kind: "other-version" });
  for (
    const bad of ["", "GET\r\n\r\n", "GET / FTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nno colon\r\n\r\n"]
  ) {
    assert.deepEqual(parseHead(bad), { kind: "bad" }, JSON.stringify(bad));
  }
});

Deno.test("replyBytes: length and connection: close always; HEAD keeps the length, drops the body", () => {
  const text = (u: Uint8Array) => new TextDecoder().decode(u);
  const full = text(
    replyBytes({ status: 200, headers: { "content-type": "t" }, body: bytes("abc") }),
  );
  assert.equal(
    full,
    "HTTP/1.1 200 OK\r\ncontent-type: t\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc",
  );
  const head = text(replyBytes({ status: 503, headers: {}, body: bytes("abc"), omitBody: true }));
  assert.equal(
    head,
    "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 3\r\nconnection: close\r\n\r\n",
  );
});

Deno.test("the connection cap fits in the fds a full perf budget leaves, with room for the rest", () => {
  assert.ok(LIMITS.maxConnections <= FD_RESERVE / 2);
});
