/**
 * `waspd --sim --metrics` against the real Prometheus tools (Debian's
 * `prometheus` package: the server and promtool; installed when missing,
 * skipped when that fails):
 * - `promtool check metrics` on a real scrape finds nothing to complain about;
 * - a Prometheus server scraping waspd has, through its HTTP query API, the
 *   PTL latency series of every node pair and sees the replicated-process
 *   count go above 0, within bounded waits; it loads the alert rules too;
 *   `rate(...[1m])` over the per-process counters gives back the simulated
 *   workload's MAR and walk ratio within 10 %.
 *   Its configuration is the README's scrape config, targets pointed here.
 * Loopback only; every port is chosen by the kernel (port 0).
 */
import assert from "node:assert/strict";
import { debianTool } from "./support/debian.ts";
import { poll } from "./support/poll.ts";
import { readmeBlocks } from "./support/readme.ts";
import { scrape, spawnWaspd } from "./support/waspd.ts";
import { outputWithInput } from "./support/command.ts";
import { defaultScenario } from "../src/sim/workloads.ts";

const promtool = await debianTool("promtool", "prometheus");
const prometheus = promtool === null ? null : await debianTool("prometheus", "prometheus");
const RULES = new URL("../deploy/prometheus/waspd-rules.yml", import.meta.url).pathname;
const NODES = 4;
/** The alerts in waspd-rules.yml. */
const RULE_COUNT = 7;
const SIM_ARGS = [`--sim`, String(NODES), "-u", "200", "-i", "1000", "-y", "400"];

async function checkMetrics(body: string): Promise<{ ok: boolean; said: string }> {
  const out = await outputWithInput(promtool!, ["check", "metrics"], body);
  const d = new TextDecoder();
  return { ok: out.success, said: (d.decode(out.stdout) + d.decode(out.stderr)).trim() };
}

Deno.test({
  name: "promtool check metrics passes on a real scrape of waspd --sim --metrics",
  ignore: promtool === null,
  fn: async () => {
    const waspd = spawnWaspd([...SIM_ARGS, "--headless", "--metrics", "127.0.0.1:0"]);
    try {
      const url = await waspd.metricsUrl();
      // Wait for a scrape with the PTL matrix and a tick histogram in it.
      const body = await poll("a full scrape", 30_000, async () => {
        const r = await scrape(url);
        return r !== null && r.status === 200 && r.body.includes("waspd_ptl_latency_seconds{") &&
            r.body.includes("waspd_tick_duration_seconds_bucket")
          ? r.body
          : null;
      }, 250);
      const good = await checkMetrics(body);
      assert.ok(good.ok, good.said);
      assert.equal(good.said, "", "promtool found problems");
      // The same scrape with a counter misnamed is refused: the check has teeth.
      const bad = await checkMetrics(body.replaceAll("waspd_ticks_total", "waspd_ticks"));
      assert.equal(bad.ok, false);
      assert.match(bad.said, /waspd_ticks counter metrics should have "_total" suffix/);
    } finally {
      assert.equal(await waspd.stop(), 0);
    }
  },
});

/** A port free right now on loopback, for Prometheus (which cannot report port 0). */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(base: string, promql: string, time?: number): Promise<Vector[] | null> {
  try {
    const at = time === undefined ? "" : `&time=${time}`;
    const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}${at}`);
    const j = await r.json() as { status: string; data?: { result: Vector[] } };
    return j.status === "success" ? j.data?.result ?? null : null;
  } catch {
    return null;
  }
}

Deno.test({
  name:
    "a real Prometheus scraping waspd --sim sees every PTL node pair, replication above 0, and rate() of the loads counter within 10 % of the simulated MAR",
  ignore: prometheus === null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "waspd-prometheus-" });
    const waspd = spawnWaspd([...SIM_ARGS, "--headless", "--metrics", "127.0.0.1:0"]);
    let server: Deno.ChildProcess | null = null;
    try {
      const target = new URL(await waspd.metricsUrl()).host;
      await Deno.copyFile(RULES, `${dir}/waspd-rules.yml`);
      // The README's scrape config, every target pointed at this waspd, scraped every second.
      const [readmeConfig] = await readmeBlocks("Monitor a fleet", "yaml");
      assert.ok(readmeConfig !== undefined);
      const config = readmeConfig.replace(/"[\w.-]+:9110"/g, `"${target}"`);
      assert.notEqual(config, readmeConfig);
      await Deno.writeTextFile(
        `${dir}/prometheus.yml`,
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n" + config,
      );
      const port = freePort();
      const base = `http://127.0.0.1:${port}`;
      server = new Deno.Command(prometheus!, {
        args: [
          `--config.file=${dir}/prometheus.yml`,
          `--storage.tsdb.path=${dir}/data`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();

      const pairs = await poll("PTL series for every node pair", 60_000, async () => {
        const v = await query(base, 'waspd_ptl_latency_seconds{job="waspd",counters_expected=""}');
        return v !== null && v.length === NODES * NODES ? v : null;
      }, 250);
      const seen = new Set(pairs.map((s) => `${s.metric.cpu_node}>${s.metric.mem_node}`));
      for (let c = 0; c < NODES; c++) {
        for (let m = 0; m < NODES; m++) assert.ok(seen.has(`${c}>${m}`), `${c}>${m}`);
      }
      for (const s of pairs) assert.ok(Number(s.value[1]) > 0);

      const replicated = await poll("waspd_processes_replicated > 0", 60_000, async () => {
        const v = await query(
          base,
          'waspd_processes_replicated{job="waspd",counters_expected=""} > 0',
        );
        return v !== null && v.length > 0 ? v : null;
      }, 250);
      assert.ok(Number(replicated[0]!.value[1]) > 0);

      // Both target groups of the README's config are up (their first scrapes may lag).
      await poll("both scrape targets up", 30_000, async () => {
        const up = await query(base, 'up{job="waspd"} == 1');
        return up !== null && up.length === 2 ? up : null;
      }, 250);
      // The README's VM group carries its label through to the series.
      const vm = await poll("the VM group's series", 30_000, async () => {
        const v = await query(base, 'waspd_counters_available{counters_expected="false"}');
        return v !== null && v.length > 0 ? v : null;
      }, 250);
      assert.equal(vm.length, 1);
      const rules = await (await fetch(`${base}/api/v1/rules`)).json() as {
        data: { groups: { rules: unknown[] }[] };
      };
      assert.equal(rules.data.groups.flatMap((g) => g.rules).length, RULE_COUNT);

      // The counters: every event kind is there from the start, and the self metrics.
      const undo = await query(base, 'waspd_events_total{job="waspd",kind="undo"}');
      assert.ok(undo !== null && undo.length === 2 && undo.every((v) => v.value[1] === "0"));
      const cpu = await query(base, 'process_cpu_seconds_total{job="waspd"}');
      assert.ok(cpu !== null && cpu.length === 2 && Number(cpu[0]!.value[1]) > 0);
      const status = await query(base, 'waspd_process_status{job="waspd",comm="stream"}');
      assert.ok(status !== null && status.length > 0);
      // pid and comm identify a process; no status or signals label to split its series.
      assert.deepEqual(
        Object.keys(status[0]!.metric).filter((k) => !["__name__", "job", "instance"].includes(k))
          .filter((k) => k !== "counters_expected").sort(),
        ["comm", "pid"],
      );

      // rate() over a full minute of the loads and walks counters gives back the
      // simulated workload's MAR and walk ratio (the model's figures, same seed).
      const model = defaultScenario({ seed: 1 }).find((w) => w.name === "stream")!;
      const one = '{job="waspd",counters_expected="",comm="stream"}';
      await poll("a full minute of stream's counters", 90_000, async () => {
        const v = await query(base, `count_over_time(waspd_process_loads_total${one}[1m]) >= 55`);
        return v !== null && v.length === 1 ? v : null;
      }, 500);
      const at = Date.now() / 1000;
      const q = async (promql: string) => {
        const v = await query(base, promql, at);
        assert.ok(v !== null && v.length === 1, promql);
        return Number(v[0]!.value[1]);
      };
      const mar = await q(`rate(waspd_process_loads_total${one}[1m])`);
      const walks = await q(`rate(waspd_process_page_walks_total${one}[1m])`);
      const expectMar = model.cycle[0]!.mar;
      const expectRatio = model.cycle[0]!.dtlbRatio;
      assert.ok(Math.abs(mar / expectMar - 1) < 0.1, `rate ${mar} vs MAR ${expectMar}`);
      assert.ok(
        Math.abs(walks / mar / expectRatio - 1) < 0.1,
        `walk ratio ${walks / mar} vs ${expectRatio}`,
      );
    } finally {
      if (server !== null) {
        server.kill("SIGTERM");
        await server.status;
      }
      assert.equal(await waspd.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
