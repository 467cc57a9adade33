/**
 * The /metrics server's bounds against the real binary (`waspd --sim
 * --headless --metrics 127.0.0.1:0`, loopback only):
 * - with its fd limit lowered to 256 (prlimit --pid), 600 connections held
 *   open, each having sent a GET, do not end it: it answers a scrape while
 *   they are held and after they close, and stops with exit 0;
 * - a SIGTERM with idle connections held open (an HTTP/2 one among them)
 *   ends it after the undo instead of leaving it waiting on them.
 * Every wait is bounded; no figure is a speed limit.
 */
import assert from "node:assert/strict";
import { poll } from "./support/poll.ts";
import { scrape, spawnWaspd } from "./support/waspd.ts";

const encoder = new TextEncoder();
const HELD = 600;
const NOFILE = 256;

function hasPrlimit(): boolean {
  try {
    return new Deno.Command("prlimit", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function scrapeOk(url: string): Promise<string> {
  return await poll("a scrape", 30_000, async () => {
    const r = await scrape(url);
    return r?.status === 200 ? r.body : null;
  });
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

Deno.test({
  name: `fd limit ${NOFILE}: ${HELD} held connections that sent a GET do not end the daemon`,
  ignore: !hasPrlimit(),
  async fn() {
    const waspd = spawnWaspd(["--sim", "-u", "200", "--headless", "--metrics", "127.0.0.1:0"]);
    const conns: Deno.Conn[] = [];
    try {
      const url = new URL(await waspd.metricsUrl());
      await scrapeOk(url.href);
      const set = await new Deno.Command("prlimit", {
        args: ["--pid", String(waspd.pid), `--nofile=${NOFILE}:${NOFILE}`],
      }).output();
      assert.ok(set.success, new TextDecoder().decode(set.stderr));
      const limits = await Deno.readTextFile(`/proc/${waspd.pid}/limits`);
      assert.match(limits, new RegExp(`^Max open files\\s+${NOFILE}\\s+${NOFILE}\\s`, "m"));

      const addr = { hostname: url.hostname, port: Number(url.port) };
      for (let i = 0; i < HELD; i++) {
        const c = await Deno.connect(addr);
        conns.push(c);
        await c.write(encoder.encode("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")).catch(() => 0);
      }
      // Held, never read: the daemon still answers...
      assert.match(await scrapeOk(url.href), /^waspd_ticks_total \d+$/m);
      closeAll(conns);
      // ...and after they go.
      const body = await scrapeOk(url.href);
      assert.match(body, /^waspd_http_connections_max 32$/m);
      // The figures, printed (not compared): how the cap and the timeouts shared the load.
      console.log(body.split("\n").filter((l) => /^waspd_http_/.test(l)).join("\n"));
      assert.doesNotMatch(waspd.lines.join("\n"), /unexpected error/);
    } finally {
      closeAll(conns);
      assert.equal(await waspd.stop(), 0, waspd.stderr());
    }
  },
});

Deno.test("SIGTERM with idle connections held (HTTP/1.1, half-sent, h2c): the undo, then the exit", async () => {
  const waspd = spawnWaspd(["--sim", "-u", "200", "--headless", "--metrics", "127.0.0.1:0"]);
  const conns: Deno.Conn[] = [];
  try {
    const url = new URL(await waspd.metricsUrl());
    await scrapeOk(url.href);
    const addr = { hostname: url.hostname, port: Number(url.port) };
    for (let i = 0; i < 3; i++) conns.push(await Deno.connect(addr));
    await conns[1]!.write(encoder.encode("GET /metrics HTTP/1.1\r\n"));
    // HTTP/2 with prior knowledge: the preface and an empty SETTINGS frame.
    await conns[2]!.write(encoder.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
    await conns[2]!.write(new Uint8Array([0, 0, 0, 4, 0, 0, 0, 0, 0])).catch(() => 0);
  } finally {
    // SIGTERM, and SIGKILL (exit 137) if it is still there 10 s later: a hang guard.
    const code = await waspd.stop(10_000);
    closeAll(conns);
    assert.equal(code, 0, `waspd did not exit on SIGTERM; stderr:\n${waspd.stderr()}`);
  }
  // Headless, the undo is in the event lines, before the exit.
  assert.ok(waspd.lines.some((l) => / undo: /.test(l)), waspd.lines.join("\n"));
});
