/**
 * The daemon command's ends: a --headless stdout that goes away stops the
 * daemon with its undo (as --json does), and a host that cannot be opened
 * leaves no --metrics server or --log file behind.
 */
import assert from "node:assert/strict";
import { runDaemonCommand } from "../src/commands/daemon.ts";
import { defaultConfig } from "../src/options.ts";
import { SimHost } from "../src/sim/host.ts";
import { OutputClosed } from "../src/sys/stdio.ts";
import { libc } from "../src/ffi/libc.ts";

// Opened before any test (the --log file uses it), so the resource sanitizer does not count it.
libc();

const SIM = {
  ...defaultConfig(),
  simNodes: 4,
  timeScale: 50,
  updateIntervalMs: 200,
  hysteresisMs: 1000,
  ptlIntervalMs: 600_000,
};

Deno.test("--headless: stdout gone stops the daemon, the undo runs and is told on stderr, exit 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-headless-gone-" });
  try {
    const host = new SimHost({ nodes: 4, seed: 1, timeScale: 50, stateDir: dir });
    let gone = false;
    let err = "";
    const code = await runDaemonCommand(
      { ...SIM, headless: true, stateDir: dir },
      { openHost: () => Promise.resolve(host) },
      {
        out: (line) => {
          if (gone) throw new OutputClosed("stdout closed by its reader");
          if (/^\S+ enable pid=/.test(line)) gone = true;
        },
        err: (text) => void (err += text),
      },
    );
    assert.equal(code, 0, err);
    assert.ok(gone, "something was enabled first");
    assert.match(err, /replication turned off for pid \d+/, "the undo, on stderr");
    assert.deepEqual(host.kernel.replicated(), [], "nothing left replicated");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a host that cannot be opened: its error, with --metrics and --log closed first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-openhost-" });
  try {
    let err = "";
    await assert.rejects(
      runDaemonCommand(
        {
          ...SIM,
          json: true,
          metrics: { hostname: "127.0.0.1", port: 0 },
          logFile: `${dir}/events.jsonl`,
        },
        { openHost: () => Promise.reject(new Error("no host here")) },
        { out: () => {}, err: (text) => void (err += text) },
      ),
      /no host here/,
    );
    const port = Number(/metrics on http:\/\/127\.0\.0\.1:(\d+)\//.exec(err)?.[1]);
    assert.ok(port > 0, err);
    // The resource sanitizer fails the test on a server left open; say it plainly too.
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port }),
      Deno.errors.ConnectionRefused,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
