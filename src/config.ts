/**
 * The value parsers of the daemon's options and the exclusion list
 * (options.ts holds the options themselves, their defaults and `Config`).
 * Parsers throw `ConfigError` with a message fit to print as the one line a
 * user sees.
 */

import { matchesGlob } from "node:path";
import { MAX_UPDATE_MS, MIN_UPDATE_MS } from "./core/update_interval.ts";
import { SIGNAL_KINDS, type SignalKind } from "./core/types.ts";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Process names never managed, whatever their counters say (matched on comm). */
export const DEFAULT_EXCLUDED_NAMES: readonly string[] = [
  "waspd",
  "init",
  "systemd",
  "systemd-*",
  "(sd-pam)",
  "sshd",
  "sshd-session",
  "login",
  "agetty",
  "getty",
  "bash",
  "sh",
  "dash",
  "zsh",
  "fish",
  "tmux*",
  "screen",
  "su",
  "sudo",
  "cron",
  "crond",
  "rsyslogd",
  "dbus-daemon",
  "dbus-broker*",
  "polkitd",
  "udevd",
  "chronyd",
  "ntpd",
  "irqbalance",
  "numad",
  "containerd*",
  "dockerd",
  "vim",
  "nvim",
  "vi",
  "nano",
  "emacs",
  "less",
  "more",
  "top",
  "htop",
  "btop",
  "numatop",
  "ps",
  "watch",
];

function parseNumber(flag: string, text: string): number {
  const trimmed = text.trim();
  // Number("") is 0 and Number("0x10") is 16: accept plain decimal / exponent only.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) {
    throw new ConfigError(`${flag}: '${text}' is not a number`);
  }
  return Number(trimmed);
}

/** A rule a numeric option's value must keep, and what the user is told when it does not. */
type Check = readonly [ok: (value: number) => boolean, why: string];

/**
 * The one parser of numeric options: a plain decimal number, then `checks`
 * in order; the first one broken is the one-line error
 * (`-u: '1' is below the 100 ms minimum`).
 */
function parseChecked(flag: string, text: string, checks: readonly Check[]): number {
  const value = parseNumber(flag, text);
  for (const [ok, why] of checks) {
    if (!ok(value)) throw new ConfigError(`${flag}: '${text}' ${why}`);
  }
  return value;
}

const WHOLE: Check = [Number.isInteger, "must be a whole number"];
const NOT_NEGATIVE: Check = [(v) => v >= 0, "must not be negative"];
const POSITIVE: Check = [(v) => Number.isFinite(v) && v > 0, "must be greater than 0"];
const atMost = (max: number): Check => [(v) => v <= max, `is larger than ${max}`];
/** `unit` follows the bound in the message ("must be at least 1 MiB"). */
const atLeast = (
  min: number,
  unit = "",
): Check => [(v) => v >= min, `must be at least ${min}${unit}`];
/** (0, max]: a share, `what` names it. */
const share = (max: number, what: string): Check => [
  (v) => v > 0 && v <= max,
  `must be ${what} in (0, ${max}]`,
];
const INTERVAL: readonly Check[] = [
  [Number.isInteger, "must be whole ms"],
  [(v) => v > 0, "must be greater than 0 ms"],
  [(v) => v <= 86_400_000, "is more than a day"],
];

/** A whole number of milliseconds > 0 (intervals). */
export function parseInterval(flag: string, text: string): number {
  return parseChecked(flag, text, INTERVAL);
}

/**
 * -u: an interval within what the +/- keys allow (MIN_UPDATE_MS to
 * MAX_UPDATE_MS). Below it a tick never rests (262 ticks/s at -u 1) and
 * --json floods its reader; above it the first `+` would shorten it.
 */
export function parseUpdateInterval(flag: string, text: string): number {
  return parseChecked(flag, text, [
    ...INTERVAL,
    [(v) => v >= MIN_UPDATE_MS, `is below the ${MIN_UPDATE_MS} ms minimum`],
    [(v) => v <= MAX_UPDATE_MS, `is above the ${MAX_UPDATE_MS} ms maximum`],
  ]);
}

/** A share of one core in percent: (0, 100]. */
export function parsePercent(flag: string, text: string): number {
  return parseChecked(flag, text, [share(100, "a percentage")]);
}

/**
 * Largest --time-scale. Simulated wall time is a JS Date, valid up to
 * 8.64e15 ms: at 1e6 that is about 100 days of real running, and a tick of
 * the simulated machine still spans whole milliseconds of real time.
 */
export const MAX_TIME_SCALE = 1e6;

/** --time-scale: a factor in (0, MAX_TIME_SCALE]. */
export function parseTimeScale(flag: string, text: string): number {
  return parseChecked(flag, text, [POSITIVE, atMost(MAX_TIME_SCALE)]);
}

/** A memory size in whole MiB, at least 1 (a budget of nothing measures nothing). */
export function parseMiB(flag: string, text: string): number {
  return parseChecked(flag, text, [WHOLE, NOT_NEGATIVE, atLeast(1, " MiB"), atMost(1 << 20)]);
}

/** A whole number >= 0 (hysteresis, cache pages). */
export function parseCount(flag: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  return parseChecked(flag, text, [WHOLE, NOT_NEGATIVE, atMost(max)]);
}

/** probe --rounds: 1..1000 (0 rounds would measure nothing). */
export function parseRounds(flag: string, text: string): number {
  return parseChecked(flag, text, [WHOLE, NOT_NEGATIVE, atLeast(1), atMost(1000)]);
}

/** A finite number > 0 (rates, scales). */
export function parsePositive(flag: string, text: string): number {
  return parseChecked(flag, text, [POSITIVE]);
}

/** A ratio in (0, 1]. */
export function parseRatio(flag: string, text: string): number {
  return parseChecked(flag, text, [share(1, "a ratio")]);
}

/** One of `choices`, exactly (a typo must not pick a mode). */
export function parseChoice<T extends string>(
  flag: string,
  text: string,
  choices: readonly T[],
): T {
  const choice = choices.find((c) => c === text);
  if (choice === undefined) {
    throw new ConfigError(`${flag}: '${text}' is not one of ${choices.join(", ")}`);
  }
  return choice;
}

/** --signals: one of SIGNAL_KINDS. */
export function parseSignals(flag: string, text: string): SignalKind {
  return parseChoice(flag, text, SIGNAL_KINDS);
}

/** A directory path: "" would put the files at the root ("/pins.json"). */
export function parseDirectory(flag: string, text: string): string {
  if (text === "") throw new ConfigError(`${flag}: the directory must not be empty`);
  return text;
}

/** A pid: a whole number >= 1 (pid 0 would mean "the caller" to prctl). */
export function parsePid(text: string): number {
  return parseChecked("PID", text, [
    [(v) => Number.isInteger(v) && v >= 1 && v <= 4_194_304, "is not a process id"],
  ]);
}

/** The kernel keeps a process name (comm) in 16 bytes, the last one NUL. */
export const COMM_MAX_BYTES = 15;

/** Glob syntax of `matchesGlob`: a pattern with none of these is a literal name. */
const GLOB_CHARS = /[*?[{]/;

/**
 * An --exclude name: non-empty, and a literal name at most COMM_MAX_BYTES
 * long in UTF-8 (a longer one could never match a comm). A glob may be longer.
 */
export function parseExcludeName(text: string): string {
  if (text.trim() === "") throw new ConfigError("--exclude: the name must not be empty");
  const bytes = new TextEncoder().encode(text).length;
  if (!GLOB_CHARS.test(text) && bytes > COMM_MAX_BYTES) {
    throw new ConfigError(
      `--exclude: '${text}' is ${bytes} bytes; process names (comm) are at most ` +
        `${COMM_MAX_BYTES}, so it could never match (use a glob such as '${
          Array.from(text).slice(0, 8).join("")
        }*')`,
    );
  }
  return text;
}

/**
 * True when `name` matches a pattern of the exclusion list, as a shell glob
 * (`*` any run, `?` one character, `[abc]` a class) matched by node:path's
 * matchesGlob. Like a file name, `*` does not match a `/` or a leading `.`.
 */
export function isExcludedName(name: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) =>
    GLOB_CHARS.test(pattern) ? matchesGlob(name, pattern) : pattern === name
  );
}
