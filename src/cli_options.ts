/**
 * The option table (options.ts) as commander options, and back: each row
 * made a commander option (flags, help, parser, shown default, conflicts),
 * commander's values made a `Config`, and the configuration file applied
 * below the flags. cli.ts builds the program from these.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { ConfigError } from "./config.ts";
import { readConfigFile, valueWords } from "./config_file.ts";
import {
  type Config,
  type ConfigField,
  DEFAULT_SIM_NODES,
  flagName,
  flagsOf,
  type OptionRow,
  optionRows,
} from "./options.ts";
import { sanitizeLine } from "./ui/sanitize.ts";

/** Exit code for a usage error (bad flag or value), as getopt tools use. */
export const EXIT_USAGE = 2;

/** Adapt a ConfigError-throwing parser to commander's error type. */
export function arg<A extends unknown[], T>(parse: (...args: A) => T): (...args: A) => T {
  return (...args) => {
    try {
      return parse(...args);
    } catch (error) {
      if (error instanceof ConfigError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** A row of the option table with the commander option made from it. */
export interface Defined {
  field: ConfigField;
  row: OptionRow<unknown>;
  option: Option;
}

/** A row's default is shown in --help unless it is none: null, off, or a list. */
function showsDefault(value: unknown): boolean {
  return value !== null && value !== false && !Array.isArray(value);
}

/** The commander option of a row: its flags, help, parser (given its flag name), shown default. */
function commanderOption(row: OptionRow<unknown>, attributeOf: (key: string) => string): Option {
  const option = new Option(flagsOf(row), row.help);
  const parse = row.parse;
  if (parse !== undefined) {
    const flag = flagName(row);
    option.argParser(
      arg((text: string, previous: unknown) =>
        parse(flag, text, previous === undefined ? row.default : previous)
      ),
    );
  }
  if (showsDefault(row.default)) option.default(row.default);
  if (row.hidden === true) option.hideHelp();
  if (row.conflicts !== undefined) option.conflicts(row.conflicts.map(attributeOf));
  return option;
}

/** The option table as commander options, in its order. */
export function defineOptions(): Defined[] {
  const attributeOf = (key: string) => new Option(`--${key}`).attributeName();
  return optionRows().map(([field, row]) => ({
    field,
    row,
    option: commanderOption(row, attributeOf),
  }));
}

/** The configuration from commander's values: each row's value, or its default. */
export function configOf(defined: readonly Defined[], values: Record<string, unknown>): Config {
  const entries = defined.map(({ field, row, option }) => {
    const value = values[option.attributeName()] ?? row.default;
    return [field, Array.isArray(value) ? [...value] : value];
  });
  return Object.fromEntries(entries) as Config;
}

/**
 * Apply the configuration file (--config, or the default one when it
 * exists) to `program`'s options below the flags: a key takes effect only
 * where the command line did not give the option. Any problem is one line
 * and a usage error, as a bad flag is. Returns the file read, or null.
 */
export function applyConfigFile(
  program: Command,
  defined: readonly Defined[],
  defaultFile: string,
): string | null {
  const named = program.opts<{ config?: string }>().config;
  const path = named ?? (isFile(defaultFile) ? defaultFile : null);
  if (path === null) return null;
  const fail = (message: string): never =>
    program.error(sanitizeLine(`error: ${message}`).trimEnd(), {
      exitCode: EXIT_USAGE,
      code: "waspd.config",
    });
  let table: Record<string, unknown>;
  try {
    table = readConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    throw error;
  }
  const byKey = new Map(defined.map((d) => [d.row.key, d] as const));
  for (const [key, value] of Object.entries(table)) {
    const found = byKey.get(key);
    if (found === undefined) return fail(`--config ${path}: unknown key '${key}'`);
    const { row, option } = found;
    const attr = option.attributeName();
    // Flags override the file.
    if (program.getOptionValueSource(attr) === "cli") continue;
    let words: string[];
    try {
      words = valueWords(row, value, String(DEFAULT_SIM_NODES));
    } catch (error) {
      if (error instanceof ConfigError) return fail(`--config ${path}: ${error.message}`);
      throw error;
    }
    if (words.length === 0) continue;
    let parsed = row.default;
    try {
      for (const word of words) {
        parsed = row.parse === undefined ? true : row.parse(flagName(row), word, parsed);
      }
    } catch (error) {
      if (error instanceof ConfigError) return fail(`--config ${path}: ${key}: ${error.message}`);
      throw error;
    }
    program.setOptionValueWithSource(attr, parsed, "config");
  }
  // Commander checks conflicts before this hook runs: check again with the file's values.
  const given = (attr: string) =>
    program.getOptionValue(attr) !== undefined &&
    program.getOptionValueSource(attr) !== "default";
  for (const { row, option } of defined) {
    if (!given(option.attributeName())) continue;
    for (const key of row.conflicts ?? []) {
      const other = byKey.get(key)?.option;
      if (other !== undefined && given(other.attributeName())) {
        return fail(
          `--config ${path}: option '${option.long}' cannot be used with option '${other.long}'`,
        );
      }
    }
  }
  return path;
}
