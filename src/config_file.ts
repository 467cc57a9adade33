/**
 * `--config FILE`: the daemon's options as keys of a TOML file, each named
 * as its long flag without the dashes (`thr-mar = 1e8`, `exclude = ["a"]`,
 * `headless = true`). The keys are commander's own option definitions (the
 * caller hands them in), and each value goes through the same parser as the
 * flag, so the file and the command line cannot disagree on what is valid.
 * Flags given on the command line win over the file.
 */
import { parse } from "smol-toml";
import { ConfigError } from "./config.ts";

/** Read when it exists and no --config names another file. */
export const DEFAULT_CONFIG_FILE = "/etc/waspd/waspd.toml";

/** Options that are no settings: they cannot be keys of the file. */
export const NOT_KEYS: readonly string[] = ["config", "version", "help"];

/** What this module needs of a commander option (commander's `Option` has it). */
export interface OptionShape {
  long?: string | undefined;
  /** Takes a value: `<value>` (required) or `[value]` (optional). */
  required: boolean;
  optional: boolean;
  description: string;
  hidden: boolean;
}

/** The key of the file an option is: its long flag without the dashes. */
export function keyOf(option: OptionShape): string | null {
  const key = option.long?.replace(/^--/, "") ?? null;
  return key === null || NOT_KEYS.includes(key) ? null : key;
}

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
 * The value of key `key` as the words its flag would take: a value option
 * takes a number or a string (each once), `exclude`-like repeatable ones an
 * array of them too; a switch takes true or false ([] for false: not given).
 * `optionalDefault` is the word a bare `--sim` means (for `sim = true`).
 */
export function valueWords(
  key: string,
  value: unknown,
  option: OptionShape,
  repeatable: boolean,
  optionalDefault: string | null,
): string[] {
  const scalar = (v: unknown): string => {
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
    if (typeof v === "string") return v;
    throw new ConfigError(`${key}: expected a number or a string, got ${describe(v)}`);
  };
  if (!option.required && !option.optional) {
    if (typeof value !== "boolean") {
      throw new ConfigError(`${key}: expected true or false, got ${describe(value)}`);
    }
    return value ? ["true"] : [];
  }
  // `<[host:]port>` holds a "[" too: only a value in brackets alone is optional.
  if (!option.required && option.optional && typeof value === "boolean") {
    return value && optionalDefault !== null ? [optionalDefault] : [];
  }
  if (repeatable && Array.isArray(value)) return value.map(scalar);
  return [scalar(value)];
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "nothing";
  if (typeof v === "object") return "a table";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * The configuration file's keys as a Markdown table, from commander's options
 * (so the README's list cannot miss or invent a key): key, the value it
 * takes, what it does.
 */
export function configKeysTable(
  options: readonly (OptionShape & { flags: string; defaultValue?: unknown })[],
): string {
  const rows = [
    "| key | value | what it sets |",
    "| --- | --- | --- |",
  ];
  for (const option of options) {
    const key = keyOf(option);
    if (key === null) continue;
    const bracket = /<(.+)>/.exec(option.flags) ?? /\[(.+)\]/.exec(option.flags);
    const placeholder = bracket?.[1] ?? "value";
    const value = !option.required && !option.optional
      ? "`true` / `false`"
      : Array.isArray(option.defaultValue)
      ? `array of ${placeholder}`
      : !option.required && option.optional
      ? `\`true\` or ${placeholder}`
      : placeholder;
    const description = option.description.replace(/\|/g, "\\|");
    rows.push(`| \`${key}\` | ${value} | ${description}${option.hidden ? " (testing)" : ""} |`);
  }
  return rows.join("\n");
}
