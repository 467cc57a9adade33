/**
 * The /metrics server under hostile clients, against a real waspd --sim:
 * 1000 connections held open, half of them slowloris (a request head sent a
 * byte at a time, never finished), a quarter slow readers (a request whose
 * response is never read), plus a huge request head and body, while
 * Prometheus-style scrapes go on. The daemon's ticks are read from its own
 * snapshots (--json: tick number and time). A tick that awaited a client
 * would stall for as long as the client does (a slowloris never ends), so
 * the test asserts liveness, not speed: the tick counter keeps advancing
 * through the hostile window and no gap between ticks comes near a stall
 * (a generous hang guard, many update intervals). The figures for a quiet
 * window and the hostile one are printed, not compared.
 */
import assert from "node:assert/strict";
import { scrape, spawnWaspd } from "./support/waspd.ts";

const UPDATE_MS = 100;
const WINDOW_MS = 3000;
const CONNECTIONS = 1000;
const encoder = new TextEncoder();

interface Tick {
  tick: number;
  at: number;
}

function ticks(lines: readonly string[]): Tick[] {
  return lines.filter((l) => l.startsWith("{")).map((l) => {
    const s = JSON.parse(l) as { time: string; daemon: { tick: number } };
    return { tick: s.daemon.tick, at: Date.parse(s.time) };
  });
}

/**
 * A hang guard, not a speed limit: a tick gap this long (many update
 * intervals) only happens when a tick stalls, as it would waiting on a client.
 */
const STALL_MS = 40 * UPDATE_MS;

interface Window {
  /** How far the daemon's own tick counter advanced in the window. */
  advanced: number;
  /** The longest wall-clock gap between consecutive ticks in the window, ms. */
  longestGapMs: number;
}

/** The ticks whose snapshot time falls in [from, to): counter advance and longest gap. */
function tickWindow(all: Tick[], from: number, to: number): Window {
  const inWindow = all.filter((t) => t.at >= from && t.at < to);
  const gaps = inWindow.slice(1).map((t, i) => t.at - inWindow[i]!.at);
  const first = inWindow[0]?.tick ?? 0;
  const last = inWindow.at(-1)?.tick ?? 0;
  return { advanced: last - first, longestGapMs: Math.max(0, ...gaps) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("hostile clients on /metrics never hold up a tick; scrapes keep answering", async () => {
  const waspd = spawnWaspd([
    "--sim",
    "-u",
    String(UPDATE_MS),
    "--json",
    "--metrics",
    "127.0.0.1:0",
  ]);
  const conns: Deno.Conn[] = [];
  let trickling = true;
  try {
    const url = new URL(await waspd.metricsUrl());
    const addr = { hostname: url.hostname, port: Number(url.port) };
    await waspd.waitLine((l) => l.startsWith("{"), 30_000);
    await sleep(1000); // past start-up

    const quietFrom = Date.now();
    await sleep(WINDOW_MS);
    const quietTo = Date.now();

    // The hostile clients: every connection is opened before the second window.
    for (let i = 0; i < CONNECTIONS; i++) {
      const c = await Deno.connect(addr);
      conns.push(c);
      if (i % 2 === 0) await c.write(encoder.encode("GET /metrics HTTP/1.1\r\n"));
      // Slow readers: a whole request whose response is never read.
      else if (i % 4 === 1) {
        await c.write(encoder.encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
      }
    }
    const big = await Deno.connect(addr);
    conns.push(big);
    const bigHead = big.write(
      encoder.encode(`GET /metrics HTTP/1.1\r\nX-Big: ${"a".repeat(4_000_000)}\r\n\r\n`),
    ).catch(() => 0);
    const post = fetch(url, { method: "POST", body: "x".repeat(8_000_000) }).then(
      (r) => r.body?.cancel(),
      () => undefined,
    );
    // Slowloris: one more header byte per connection every 200 ms, never the end.
    const trickle = (async () => {
      while (trickling) {
        for (let i = 0; i < CONNECTIONS && trickling; i += 2) {
          await conns[i]!.write(encoder.encode("X")).catch(() => 0);
        }
        await sleep(200);
      }
    })();

    const hostileFrom = Date.now();
    let scrapes = 0;
    while (Date.now() - hostileFrom < WINDOW_MS) {
      const r = await scrape(url.href);
      assert.equal(r?.status, 200, "a scrape failed while the hostile clients were on");
      assert.match(r!.body, /^waspd_ticks_total \d+$/m);
      scrapes++;
      await sleep(250);
    }
    const hostileTo = Date.now();
    trickling = false;
    await Promise.all([trickle, bigHead, post]);

    const all = ticks(waspd.lines);
    const quiet = tickWindow(all, quietFrom, quietTo);
    const hostile = tickWindow(all, hostileFrom, hostileTo);
    console.log(
      `quiet: counter +${quiet.advanced}, longest gap ${quiet.longestGapMs} ms; ` +
        `hostile: counter +${hostile.advanced}, longest gap ${hostile.longestGapMs} ms; ` +
        `${scrapes} scrapes`,
    );
    // Ticks kept coming while the clients were on...
    assert.ok(hostile.advanced >= 3, `tick counter advanced by ${hostile.advanced} only`);
    // ...and none of them stalled on a client (a hang guard, not a speed limit).
    assert.ok(
      hostile.longestGapMs < STALL_MS,
      `a tick stalled ${hostile.longestGapMs} ms while the hostile clients were on`,
    );
    // The end of the window: the daemon is still ticking after the clients.
    const lastTick = all.at(-1)?.tick ?? 0;
    await waspd.waitLine((l) => l.startsWith("{") && ticks([l])[0]!.tick > lastTick, 30_000);
    assert.ok(scrapes >= 3);
  } finally {
    trickling = false;
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // closed by the server
      }
    }
    assert.equal(await waspd.stop(), 0);
  }
});
