/**
 * Print the configuration file's keys as the Markdown table the README
 * carries (`deno run -A tools/config_keys.ts`), from the option table.
 */
import { configKeysTable } from "../src/config_file.ts";

export function configKeysMarkdown(): string {
  return configKeysTable();
}

if (import.meta.main) console.log(configKeysMarkdown());
