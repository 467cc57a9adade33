/**
 * `--config FILE`: the daemon's options as keys of a TOML file, each named
 * by its row of the option table (options.ts: `thr-mar = 1e8`,
 * `exclude = ["a"]`, `headless = true`), and each value goes through the
 * row's parser as the flag's does, so the file and the command line cannot
 * disagree on what is valid. Flags given on the command line win over the
 * file.
 */
import { parse } from "smol-toml";
import { ConfigError } from "./config.ts";
import { type FileValue, type OptionRow, optionRows } from "./options.ts";

/** Read when it exists and no --config names another file. */
export const DEFAULT_CONFIG_FILE = "/etc/waspd/waspd.toml";

/** The file's top-level table; throws ConfigError (one line) when it cannot be read or parsed. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Deno.errors.IsADirectory
      ? "is a directory"
      : (error as Error).message;
    throw new ConfigError(`--config ${path}: ${why}`);
  }
  try {
    return parse(text) as Record<string, unknown>;
  } catch (error) {
    // smol-toml's message carries a code excerpt over several lines: the first says what and where.
    const first = ((error as Error).message.split("\n")[0] ?? "").trim();
    throw new ConfigError(`--config ${path}: not valid TOML: ${first}`);
  }
}

/**
 * The value of `row`'s key as the words its flag would take: a value option
 * takes a number or a string (each once), a repeatable one an array of them
 * too; a switch takes true or false ([] for false: not given).
 * `optionalDefault` is the word a bare `--sim` means (for `sim = true`).
 */
export function valueWords(
  row: OptionRow<unknown>,
  value: unknown,
  optionalDefault: string,
): string[] {
  const key = row.key;
  const scalar = (v: unknown): string => {
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
    if (typeof v === "string") return v;
    throw new ConfigError(`${key}: expected a number or a string, got ${describe(v)}`);
  };
  if (row.value === undefined) {
    if (typeof value !== "boolean") {
      throw new ConfigError(`${key}: expected true or false, got ${describe(value)}`);
    }
    return value ? ["true"] : [];
  }
  if (optional(row) && typeof value === "boolean") return value ? [optionalDefault] : [];
  if (row.repeatable === true && Array.isArray(value)) return value.map(scalar);
  return [scalar(value)];
}

/** The value may be left out (`[nodes]`): `<[host:]port>` holds a "[" too, so only a leading one. */
function optional(row: OptionRow<unknown>): boolean {
  return row.value?.startsWith("[") === true;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "nothing";
  if (typeof v === "object") return "a table";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A value as the file writes it. */
export function tomlText(value: FileValue): string {
  return Array.isArray(value)
    ? `[${value.map((v) => JSON.stringify(v)).join(", ")}]`
    : JSON.stringify(value);
}

/**
 * The configuration file's keys as a Markdown table, from the option table
 * (so the README's list cannot miss or invent a key): key, the value it
 * takes, what it sets, an example line.
 */
export function configKeysTable(): string {
  const rows = [
    "| key | value | what it sets | example |",
    "| --- | --- | --- | --- |",
  ];
  for (const [, row] of optionRows()) {
    const placeholder = row.value?.replace(/^[<[](.+)[>\]]$/, "$1") ?? "value";
    const value = row.value === undefined
      ? "`true` / `false`"
      : row.repeatable === true
      ? `array of ${placeholder}`
      : optional(row)
      ? `\`true\` or ${placeholder}`
      : placeholder;
    const help = row.help.replace(/\|/g, "\\|");
    const example = `\`${row.key} = ${tomlText(row.example)}\``;
    rows.push(
      `| \`${row.key}\` | ${value} | ${help}${row.hidden ? " (testing)" : ""} | ${example} |`,
    );
  }
  return rows.join("\n");
}
