/**
 * A reload: the Daemon's own (live settings applied at the next tick, the
 * rest named as needing a restart, nothing undone, a newly excluded
 * replicated process turned off), and the real binary's SIGHUP in
 * --headless: the file read again, --log reopened, systemd told RELOADING
 * then READY, a bad file kept out with an error line; on stop, STOPPING.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../src/options.ts";
import { replicated, simConfig, simHost, ticks } from "./support/sim_daemon.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";
import { diffConfig, LIVE_SETTINGS, RESTART_SETTINGS } from "../src/config_reload.ts";
import { poll } from "./support/poll.ts";
import { jsonLines, spawnWaspd, startWaspd } from "./support/waspd.ts";
import type { Snapshot } from "../src/core/snapshot.ts";
import { bindNotifySocket } from "./support/notify_socket.ts";

const config = simConfig;

Deno.test("every setting is either applied live or named as needing a restart", () => {
  const named = new Set([...LIVE_SETTINGS, ...RESTART_SETTINGS].map(([key]) => key));
  const missing = Object.keys(defaultConfig()).filter((k) => !named.has(k as never));
  assert.deepEqual(missing, []);
});

Deno.test("diffConfig: live and restart changes apart, each with its option name", () => {
  const a = defaultConfig();
  const b = {
    ...a,
    thrMar: 2e8,
    exclude: [...a.exclude, "x"],
    metrics: { hostname: "::", port: 1 },
  };
  const d = diffConfig(a, b);
  assert.deepEqual(d.live.map((c) => c.option), ["thr-mar", "exclude"]);
  assert.deepEqual(d.restart, [{ option: "metrics", from: "none", to: ":::1" }]);
});

Deno.test("reconfigure: thresholds and intervals at the next tick, nothing undone, the rest named", async () => {
  const host = simHost();
  await using daemon = await Daemon.open(host, config, { selfPid: SIM_PIDS.waspd });
  await ticks(daemon, host, 30, () => replicated(host, SIM_PIDS.stream));
  assert.ok(replicated(host, SIM_PIDS.stream), "stream replicated");
  const diff = daemon.reconfigure(
    { ...config, thrMar: 4e7, hysteresisMs: 5000, updateIntervalMs: 2000, signals: "software" },
    "test.toml",
  );
  // In the option table's order, as --help lists them.
  assert.deepEqual(diff.live.map((c) => c.option), ["update-interval", "hysteresis", "thr-mar"]);
  assert.deepEqual(diff.restart.map((c) => c.option), ["signals"]);
  const s = await daemon.tick();
  assert.equal(s.daemon?.thr_mar, 4e7);
  assert.equal(s.daemon?.hysteresis_ms, 5000);
  assert.equal(s.daemon?.update_ms, 2000);
  const line = s.events.find((e) => e.message.startsWith("configuration reloaded"));
  assert.ok(line, JSON.stringify(s.events));
  assert.match(
    line.message,
    /\(test\.toml\): applied update-interval 1000 -> 2000, .*thr-mar 10000000 -> 40000000/,
  );
  assert.match(line.message, /needs a restart: signals hardware -> software/);
  assert.equal(daemon.config.signals, "hardware", "a restart-only setting keeps its running value");
  assert.ok(host.kernel.replicated().some((p) => p.pid === SIM_PIDS.stream), "nothing undone");
  assert.ok(!s.events.some((e) => e.kind === "undo"));
});

Deno.test("reconfigure: a process the new exclusions name is turned off, not forgotten", async () => {
  const host = simHost();
  await using daemon = await Daemon.open(host, config, { selfPid: SIM_PIDS.waspd });
  await ticks(daemon, host, 30, () => replicated(host, SIM_PIDS.stream));
  assert.ok(replicated(host, SIM_PIDS.stream), "stream replicated");
  daemon.reconfigure({ ...config, exclude: [...config.exclude, "stream"] }, "test.toml");
  await daemon.settle();
  await daemon.tick();
  assert.ok(!host.kernel.replicated().some((p) => p.pid === SIM_PIDS.stream), "turned off");
});

Deno.test("waspd --headless: SIGHUP reloads the file, reopens --log, tells systemd; a bad file is refused", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/waspd.toml`;
  const log = `${dir}/events.jsonl`;
  await Deno.writeTextFile(file, `hysteresis = 1000\nthr-mar = 1e7\n`);
  const server = bindNotifySocket(`@waspd-reload-test-${Deno.pid}`);
  const messages: string[] = [];
  const drain = setInterval(() => messages.splice(0, messages.length, ...server.messages()), 20);
  const waspd = spawnWaspd(
    ["--config", file, "--sim", "--headless", "--time-scale", "20", "-u", "500", "--log", log],
    { NOTIFY_SOCKET: server.address, WATCHDOG_USEC: "4000000" },
  );
  try {
    await waspd.waitLine((l) => / enable pid=\d+: replication on/.test(l), 30_000);
    await poll("READY=1", 10_000, () => messages[0]?.startsWith("READY=1\nSTATUS=") || null, 20);
    assert.ok(messages.some((m) => m.includes("WATCHDOG=1")), "watchdog pinged from ticks");
    // logrotate's `create`: the file is moved away, a SIGHUP makes waspd open a new one.
    await Deno.rename(log, `${log}.1`);
    await Deno.writeTextFile(file, `hysteresis = 3000\nthr-mar = 2e7\nmetrics = 0\n`);
    Deno.kill(waspd.pid, "SIGHUP");
    const reloaded = await waspd.waitLine((l) => l.includes("configuration reloaded"), 20_000);
    assert.match(reloaded, /applied hysteresis 1000 -> 3000, thr-mar 10000000 -> 20000000;/);
    assert.match(reloaded, /needs a restart: metrics none -> 127\.0\.0\.1:0/);
    await poll("RELOADING then READY", 10_000, () => {
      const r = messages.findIndex((m) => /^RELOADING=1\nMONOTONIC_USEC=\d+$/.test(m));
      return r > 0 && messages.slice(r + 1).some((m) => m.startsWith("READY=1")) || null;
    }, 20);
    const fresh = await poll("the reopened log", 10_000, () => {
      try {
        const text = Deno.readTextFileSync(log);
        return text.includes("configuration reloaded") ? text : null;
      } catch {
        return null;
      }
    }, 50);
    assert.ok(fresh.length > 0);
    // A bad file: the running configuration stays, one error line, still running.
    await Deno.writeTextFile(file, `hysteresis = "soon"\n`);
    Deno.kill(waspd.pid, "SIGHUP");
    const refused = await waspd.waitLine((l) => l.includes("reload refused"), 20_000);
    assert.match(refused, /hysteresis/);
    assert.ok(!waspd.lines.some((l) => / undo: /.test(l)), "nothing undone by a reload");
    assert.equal(await waspd.stop(), 0, waspd.stderr());
    await poll("STOPPING=1", 5_000, () => messages.at(-1) === "STOPPING=1" || null, 20);
    assert.ok(waspd.lines.some((l) => / undo: replication turned off/.test(l)));
  } finally {
    clearInterval(drain);
    await waspd.stop().catch(() => {});
    server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("waspd --json: SIGHUP reloads and the snapshots go on; a -u the watchdog cannot cover is warned of", async () => {
  const server = bindNotifySocket(`@waspd-json-reload-${Deno.pid}`);
  const child = startWaspd(["--sim", "--json", "--time-scale", "20", "-u", "500"], {
    env: { NOTIFY_SOCKET: server.address, WATCHDOG_USEC: "1000000" },
  });
  const stderr = new Response(child.stderr).text();
  const messages: string[] = [];
  let ticksAfter = 0;
  let hupped = false;
  try {
    for await (const s of jsonLines<Snapshot>(child.stdout)) {
      messages.push(...s.events.map((e) => e.message));
      if (!hupped && s.daemon !== null && s.daemon.tick >= 2) {
        hupped = true;
        child.kill("SIGHUP");
      } else if (
        messages.some((m) => m.startsWith("configuration reloaded")) && ++ticksAfter >= 3
      ) {
        child.kill("SIGTERM");
      }
    }
  } finally {
    server.close();
  }
  assert.equal((await child.status).code, 0, await stderr);
  assert.ok(
    messages.some((m) => m === "configuration reloaded (no configuration file): nothing changed"),
    messages.join("\n"),
  );
  assert.ok(ticksAfter >= 3, "snapshots went on after the SIGHUP");
  assert.ok(messages.some((m) => /not shorter than half the watchdog period/.test(m)));
});
