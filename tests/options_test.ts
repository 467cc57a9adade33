/**
 * The option table (src/options.ts): every row reaches its `Config` field,
 * from its flag and from its key in the configuration file alike, and the
 * flag, the key and --help come from the row.
 */
import assert from "node:assert/strict";
import { tomlText, valueWords } from "../src/config_file.ts";
import { defaultConfig, flagsOf, optionRows } from "../src/options.ts";
import { runRecorded } from "./support/cli_run.ts";

const NO_DEFAULT = { defaultConfigFile: "/nonexistent/waspd.toml" };

for (const [field, row] of optionRows()) {
  Deno.test(`option ${row.key}: its flag and its file key set Config.${field}`, async () => {
    const defaults = defaultConfig();
    assert.notDeepEqual(row.example, defaults[field], "the example is no default");
    const words = valueWords(row, row.example, "4");
    const argv = row.value === undefined
      ? [`--${row.key}`]
      : words.map((word) => `--${row.key}=${word}`);
    const byFlag = await runRecorded(argv, NO_DEFAULT);
    assert.equal(byFlag.code, 0, byFlag.err);
    const config = byFlag.calls[0]!.config;
    assert.notDeepEqual(config[field], defaults[field], `${argv.join(" ")} changed nothing`);
    assert.deepEqual(config, { ...defaults, [field]: config[field] }, "only its own field");

    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/waspd.toml`;
      await Deno.writeTextFile(file, `${row.key} = ${tomlText(row.example)}\n`);
      const byFile = await runRecorded(["--config", file], NO_DEFAULT);
      assert.equal(byFile.code, 0, byFile.err);
      assert.deepEqual(byFile.calls[0]!.config, config, "the file's key sets what the flag sets");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("--help shows each visible row's flags and help, and no hidden one", async () => {
  const help = (await runRecorded(["--help"])).out.replace(/\s+/g, " ");
  for (const [, row] of optionRows()) {
    const shown = help.includes(`${flagsOf(row)} ${row.help.replace(/\s+/g, " ")}`);
    assert.equal(shown, row.hidden !== true, flagsOf(row));
  }
});
