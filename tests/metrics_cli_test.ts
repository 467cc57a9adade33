/**
 * `--metrics` from the command line: it serves alongside the live screen
 * (in tmux; ignored without it) and --json, and a port already taken is an
 * error event, the daemon running on and binding once the port is free.
 */
import assert from "node:assert/strict";
import { poll } from "./support/poll.ts";
import { hasTmux, inSession, screenOf, tmux, writtenText } from "./support/tmux.ts";
import { MAIN, scrape, spawnWaspd } from "./support/waspd.ts";

const ticksIn = (body: string) => Number(/^waspd_ticks_total (\d+)$/m.exec(body)?.[1] ?? NaN);

Deno.test("--metrics with --json: scrapes follow the ticks, stdout stays JSON", async () => {
  const waspd = spawnWaspd(["--sim", "-u", "200", "--json", "--metrics", "127.0.0.1:0"]);
  try {
    const url = await waspd.metricsUrl();
    const first = await poll("a scrape", 30_000, async () => {
      const r = await scrape(url);
      return r?.status === 200 ? ticksIn(r.body) : null;
    });
    const later = await poll("a later tick", 30_000, async () => {
      const r = await scrape(url);
      const t = r?.status === 200 ? ticksIn(r.body) : NaN;
      return t > first ? t : null;
    });
    assert.ok(later > first);
  } finally {
    assert.equal(await waspd.stop(), 0);
  }
  assert.ok(waspd.lines.filter((l) => l !== "").every((l) => l.startsWith("{")));
});

Deno.test("--metrics on a taken port: the daemon runs on, says so, and binds once it is free", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  let held = true;
  const waspd = spawnWaspd(["--sim", "--headless", "--metrics", String(port)]);
  try {
    const error = await waspd.waitLine(
      (l) => / error: --metrics 127\.0\.0\.1:\d+: /.test(l),
      30_000,
    );
    assert.match(error, new RegExp(`--metrics 127\\.0\\.0\\.1:${port}: .*running without metrics`));
    // The daemon goes on deciding without its metrics.
    await waspd.waitLine((l) => / decision pid=/.test(l), 30_000);
    holder.close();
    held = false;
    await waspd.waitLine(
      (l) => l.endsWith(` info: metrics on http://127.0.0.1:${port}/metrics`),
      60_000,
    );
    const body = await poll("a scrape", 30_000, async () => {
      const r = await scrape(`http://127.0.0.1:${port}/metrics`);
      return r?.status === 200 ? r.body : null;
    });
    assert.ok(ticksIn(body) >= 1);
  } finally {
    if (held) holder.close();
    assert.equal(await waspd.stop(), 0);
  }
  assert.doesNotMatch(waspd.stderr(), /unexpected error/);
});

Deno.test({
  name: "--metrics with the live screen (tmux): the TUI draws and /metrics answers",
  ignore: !hasTmux(),
  async fn() {
    await inSession(
      "waspd-metrics",
      (dir) =>
        `'${Deno.execPath()}' run -A '${MAIN}' --sim -u 250 --metrics 127.0.0.1:0 ` +
        `2> ${dir}/err; echo $? > ${dir}/exit; sleep 30`,
      async (session, dir) => {
        await poll("the first frame", 30_000, async () => {
          const screen = await screenOf(session);
          return /PTL latency/.test(screen) ? screen : null;
        });
        const url = await poll("the metrics address", 30_000, async () => {
          const err = await Deno.readTextFile(`${dir}/err`).catch(() => "");
          return /metrics on (http:\/\/\S+\/metrics)/.exec(err)?.[1] ?? null;
        });
        const body = await poll("a scrape with ticks", 30_000, async () => {
          const r = await scrape(url);
          return r?.status === 200 && ticksIn(r.body) >= 1 ? r.body : null;
        });
        assert.match(body, /^waspd_mode\{mode="enforcing"\} 1$/m);
        await tmux("send-keys", "-t", session, "q");
        const exit = await poll("waspd to exit", 30_000, () => writtenText(`${dir}/exit`));
        assert.equal(exit, "0");
      },
    );
  },
});
