/**
 * Print the configuration file's keys as the Markdown table the README
 * carries (`deno run -A tools/config_keys.ts`), from the CLI's own options.
 */
import { buildProgram } from "../src/cli.ts";
import { configKeysTable } from "../src/config_file.ts";

export function configKeysMarkdown(): string {
  const program = buildProgram({} as never, { out: () => {}, err: () => {} }, () => {});
  return configKeysTable(program.options);
}

if (import.meta.main) console.log(configKeysMarkdown());
