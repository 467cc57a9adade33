import assert from "node:assert/strict";
import { ConfigError } from "../src/config.ts";
import {
  DEFAULT_METRICS_PORT,
  formatListenAddress,
  parseListenAddress,
} from "../src/metrics/listen.ts";

Deno.test("a bare port binds loopback only", () => {
  assert.deepEqual(parseListenAddress("9110"), { hostname: "127.0.0.1", port: 9110 });
  assert.deepEqual(parseListenAddress(String(DEFAULT_METRICS_PORT)).hostname, "127.0.0.1");
});

Deno.test("any other address is given explicitly: IPv4, name, bracketed IPv6", () => {
  assert.deepEqual(parseListenAddress("0.0.0.0:9110"), { hostname: "0.0.0.0", port: 9110 });
  assert.deepEqual(parseListenAddress("localhost:80"), { hostname: "localhost", port: 80 });
  assert.deepEqual(parseListenAddress("[::1]:9110"), { hostname: "::1", port: 9110 });
  assert.deepEqual(parseListenAddress("[::]:1"), { hostname: "::", port: 1 });
  assert.equal(formatListenAddress({ hostname: "::1", port: 9110 }), "[::1]:9110");
  assert.equal(formatListenAddress({ hostname: "10.0.0.5", port: 9110 }), "10.0.0.5:9110");
});

Deno.test("port 0 asks for a free port", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
});

Deno.test("bad addresses are one-line ConfigErrors that name the flag", () => {
  const bad = [
    "",
    "http",
    "70000",
    "-1",
    "9110x",
    ":9110",
    "1.2.3.4:",
    "256.1.1.1:80",
    "::1:9110",
    "[1.2.3.4]:80",
    "[zz::1]:80",
    "a b:80",
    "host:port",
  ];
  for (const text of bad) {
    assert.throws(() => parseListenAddress(text), (e: unknown) => {
      assert.ok(e instanceof ConfigError, text);
      assert.match(e.message, /^--metrics: /);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});
