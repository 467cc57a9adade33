/**
 * The alert rules in deploy/prometheus/ checked by Prometheus's own tool:
 * `promtool check rules` (syntax, PromQL) and `promtool test rules` (the unit
 * tests beside them: each alert fires for its case and stays quiet for the
 * healthy one). Needs Debian's `prometheus` package; skipped without it.
 */
import assert from "node:assert/strict";
import { debianTool } from "./support/debian.ts";

const promtool = await debianTool("promtool", "prometheus");
const DIR = new URL("../deploy/prometheus/", import.meta.url).pathname;

/** promtool ARGS in `cwd`: whether it succeeded, and all it said. */
async function run(cwd: string, ...args: string[]): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(promtool!, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const d = new TextDecoder();
  return { ok: out.success, text: d.decode(out.stdout) + d.decode(out.stderr) };
}

/** The shipped files through promtool: test name, promtool's arguments, what success says. */
const CHECKS: [string, string[], RegExp][] = [
  [
    "promtool check rules: waspd-rules.yml is valid and has the seven alerts",
    ["check", "rules", "waspd-rules.yml"],
    /SUCCESS: 7 rules found/,
  ],
  [
    "promtool test rules: every alert fires for its case and not for the healthy one",
    ["test", "rules", "waspd-rules.test.yml"],
    /SUCCESS/,
  ],
];

for (const [name, args, success] of CHECKS) {
  Deno.test({
    name,
    ignore: promtool === null,
    fn: async () => {
      const r = await run(DIR, ...args);
      assert.ok(r.ok, r.text);
      assert.match(r.text, success);
    },
  });
}

Deno.test({
  name: "promtool test rules fails on a broken rule (the unit tests have teeth)",
  ignore: promtool === null,
  fn: async () => {
    const rules = await Deno.readTextFile(`${DIR}/waspd-rules.yml`);
    const broken = rules.replace(
      'waspd_processes_stuck{job="waspd"} > 0',
      'waspd_processes_stuck{job="waspd"} > 5',
    );
    assert.notEqual(broken, rules);
    const dir = await Deno.makeTempDir({ prefix: "waspd-rules-" });
    try {
      await Deno.writeTextFile(`${dir}/waspd-rules.yml`, broken);
      await Deno.copyFile(`${DIR}/waspd-rules.test.yml`, `${dir}/waspd-rules.test.yml`);
      const r = await run(dir, "test", "rules", "waspd-rules.test.yml");
      assert.equal(r.ok, false);
      assert.match(r.text, /WaspdProcessStuck/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
