/**
 * `--config FILE`: every daemon option as a TOML key, parsed as its flag is;
 * flags over the file; one line and exit 2 for an unknown key, a bad value,
 * an unreadable or broken file; the default file read only when it exists;
 * and the same configuration read again for a reload.
 */
import assert from "node:assert/strict";
import { EXIT_USAGE, reloadConfig } from "../src/cli.ts";
import { optionRows } from "../src/options.ts";
import { runRecorded } from "./support/cli_run.ts";
import { configKeysMarkdown, flagsMarkdown } from "../tools/config_keys.ts";

async function withFile(
  text: string,
  use: (path: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/waspd.toml`, text);
    await use(`${dir}/waspd.toml`, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const NO_DEFAULT = { defaultConfigFile: "/nonexistent/waspd.toml" };

Deno.test("--config: keys set the options, each parsed as its flag", () =>
  withFile(
    `thr-mar = 1e8\nthr-dtlb = "1e-6"\nhysteresis = 4000\nupdate-interval = 2000\n` +
      `exclude = ["deno", "myjob*"]\nheadless = true\nmetrics = "127.0.0.1:9200"\n` +
      `signals = "software"\nreplica-cap = 512\nsim = 8\n`,
    async (path) => {
      const r = await runRecorded(["--config", path], NO_DEFAULT);
      assert.equal(r.code, 0, r.err);
      const c = r.calls[0]!.config;
      assert.equal(c.thrMar, 1e8);
      assert.equal(c.thrDtlb, 1e-6);
      assert.equal(c.hysteresisMs, 4000);
      assert.equal(c.updateIntervalMs, 2000);
      assert.ok(c.exclude.includes("deno") && c.exclude.includes("myjob*"));
      assert.ok(c.exclude.includes("waspd"), "the default exclusions stay");
      assert.equal(c.headless, true);
      assert.deepEqual(c.metrics, { hostname: "127.0.0.1", port: 9200 });
      assert.equal(c.signals, "software");
      assert.equal(c.replicaCapMb, 512);
      assert.equal(c.simNodes, 8);
    },
  ));

Deno.test("--config: a flag overrides the file's key; the file's other keys stay", () =>
  withFile(`thr-mar = 1e8\nhysteresis = 4000\nexclude = ["a"]\n`, async (path) => {
    const r = await runRecorded(
      ["--config", path, "--thr-mar", "5e7", "--exclude", "b"],
      NO_DEFAULT,
    );
    assert.equal(r.code, 0, r.err);
    const c = r.calls[0]!.config;
    assert.equal(c.thrMar, 5e7);
    assert.equal(c.hysteresisMs, 4000);
    assert.ok(c.exclude.includes("b") && !c.exclude.includes("a"));
  }));

Deno.test("--config: `sim = true` is a bare --sim; `json = false` is no --json", () =>
  withFile(`sim = true\njson = false\n`, async (path) => {
    const r = await runRecorded(["--config", path], NO_DEFAULT);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.calls[0]!.config.simNodes, 4);
    assert.equal(r.calls[0]!.config.json, false);
  }));

for (
  const [what, text, pattern] of [
    ["an unknown key", `thr-mars = 1e8\n`, /unknown key 'thr-mars'/],
    ["a bad value", `thr-mar = -5\n`, /thr-mar: /],
    ["a value of the wrong type", `hysteresis = [1, 2]\n`, /hysteresis: expected a number/],
    ["a switch given a string", `headless = "yes"\n`, /headless: expected true or false/],
    ["broken TOML", `thr-mar = = 1\n`, /not valid TOML/],
    ["conflicting keys", `headless = true\njson = true\n`, /'--headless' cannot be used with/],
    ["a key that is no setting", `help = true\n`, /unknown key 'help'/],
  ] as const
) {
  Deno.test(`--config: ${what} is one line and exit 2, nothing run`, () =>
    withFile(text, async (path) => {
      const r = await runRecorded(["--config", path], NO_DEFAULT);
      assert.equal(r.code, EXIT_USAGE);
      assert.deepEqual(r.calls, []);
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
      assert.match(r.err, pattern);
      assert.ok(r.err.includes(path), "the line names the file");
    }));
}

Deno.test("--config: an unreadable file is one line and exit 2", async () => {
  const r = await runRecorded(["--config", "/nonexistent/dir/waspd.toml"], NO_DEFAULT);
  assert.equal(r.code, EXIT_USAGE);
  assert.deepEqual(r.calls, []);
  assert.match(r.err.trim(), /^error: --config \/nonexistent\/dir\/waspd\.toml: no such file$/);
});

Deno.test("the default file is read when it exists, and only then", () =>
  withFile(`thr-mar = 1e8\n`, async (path, dir) => {
    const used = await runRecorded(["--json"], { defaultConfigFile: path });
    assert.equal(used.code, 0, used.err);
    assert.equal(used.calls[0]!.config.thrMar, 1e8);
    const absent = await runRecorded(["--json"], { defaultConfigFile: `${dir}/none.toml` });
    assert.equal(absent.code, 0, absent.err);
    assert.notEqual(absent.calls[0]!.config.thrMar, 1e8);
  }));

Deno.test("the configuration file also applies to the subcommands' global options", () =>
  withFile(`state-dir = "/tmp"\n`, async (path) => {
    const r = await runRecorded(["--config", path, "status"], NO_DEFAULT);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.calls[0]!.command, "status");
    assert.equal(r.calls[0]!.config.stateDir, "/tmp");
  }));

Deno.test("reloadConfig: the file as it is now, under the same flags", () =>
  withFile(`thr-mar = 1e8\nhysteresis = 4000\n`, async (path) => {
    const argv = ["--config", path, "--headless", "--hysteresis", "1000"];
    await Deno.writeTextFile(path, `thr-mar = 2e8\nhysteresis = 9000\n`);
    const r = await reloadConfig(argv, NO_DEFAULT);
    assert.ok("config" in r, JSON.stringify(r));
    assert.equal(r.config.thrMar, 2e8);
    assert.equal(r.config.hysteresisMs, 1000, "the flag still wins");
    assert.equal(r.source, path);
  }));

Deno.test("reloadConfig: a broken file is the error's one line, nothing else", () =>
  withFile(`thr-mar = 1e8\n`, async (path) => {
    await Deno.writeTextFile(path, `thr-mar = "fast"\n`);
    const r = await reloadConfig(["--config", path, "--headless"], NO_DEFAULT);
    assert.ok("error" in r);
    assert.match(r.error, /thr-mar/);
    assert.doesNotMatch(r.error, /\n/);
  }));

/** A Markdown table row without the padding `deno fmt` adds. */
const row = (line: string) => line.split("|").map((cell) => cell.trim()).join("|");

Deno.test("the README's table of keys is the one generated from the option table", async () => {
  const readme = (await Deno.readTextFile(new URL("../README.md", import.meta.url)))
    .split("\n").map(row);
  const keys = optionRows().map(([, row]) => row.key);
  assert.ok(keys.length >= 25, `${keys.length} keys`);
  const rows = configKeysMarkdown().split("\n").slice(2).map(row);
  assert.equal(rows.length, keys.length);
  const missing = rows.filter((r) => !readme.includes(r));
  assert.deepEqual(missing, [], "README lacks these rows: deno run -A tools/config_keys.ts");
});

Deno.test("the README's table of flags is the one generated from the option table", async () => {
  const readme = (await Deno.readTextFile(new URL("../README.md", import.meta.url)))
    .split("\n").map(row);
  const shown = optionRows().filter(([, row]) => !row.hidden);
  const rows = flagsMarkdown().split("\n").slice(2).map(row);
  assert.equal(rows.length, shown.length);
  const missing = rows.filter((r) => !readme.includes(r));
  assert.deepEqual(
    missing,
    [],
    "README lacks these rows: deno run -A tools/config_keys.ts --flags",
  );
});

Deno.test("--help names the configuration file and its default path", async () => {
  const r = await runRecorded(["--help"]);
  assert.match(r.out.replace(/\s+/g, " "), /--config <file>.*\/etc\/waspd\/waspd\.toml/);
});
