/**
 * Print the option tables the README carries, from the option table
 * (`src/options.ts`): the configuration file's keys
 * (`deno run -A tools/config_keys.ts`) and the command-line flags
 * (`deno run -A tools/config_keys.ts --flags`).
 */
import { configKeysTable } from "../src/config_file.ts";
import { type FileValue, optionRows } from "../src/options.ts";

export function configKeysMarkdown(): string {
  return configKeysTable();
}

/** A default as the table shows it: nothing for off, none or an empty list. */
function defaultText(value: FileValue | null | undefined): string {
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) {
    return value.length > 3 ? `${value.slice(0, 3).join(", ")}, …` : value.join(", ");
  }
  return String(value);
}

/** The command-line options as a Markdown table: flag, default, meaning (hidden ones left out). */
export function flagsMarkdown(): string {
  const rows = ["| option | default | meaning |", "| --- | --- | --- |"];
  for (const [, row] of optionRows()) {
    if (row.hidden) continue;
    const flag = [row.short, `--${row.key}`].filter(Boolean).join(", ") +
      (row.value === undefined ? "" : ` ${row.value}`);
    const value = defaultText(row.default as FileValue | null);
    rows.push(
      `| \`${flag}\` | ${value.replace(/\|/g, "\\|")} | ${row.help.replace(/\|/g, "\\|")} |`,
    );
  }
  return rows.join("\n");
}

if (import.meta.main) {
  console.log(Deno.args.includes("--flags") ? flagsMarkdown() : configKeysMarkdown());
}
