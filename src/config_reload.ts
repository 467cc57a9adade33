/**
 * A reloaded configuration against the running one: which settings a
 * running daemon takes at once, which only a restart can change, and the
 * one line that says so. Pure.
 */
import { type Config, type ConfigField, optionRows } from "./options.ts";

/** The option rows a reload applies (`live`), or not, each as its field and key. */
function settings(live: boolean): readonly (readonly [ConfigField, string])[] {
  return optionRows().filter(([, row]) => row.live === live).map((
    [field, row],
  ) => [field, row.key]);
}

/** The settings a running daemon applies on reload, each with its option name. */
export const LIVE_SETTINGS = settings(true);

/** Settings fixed for the life of the process: a change waits for a restart. */
export const RESTART_SETTINGS = settings(false);

export interface SettingChange {
  option: string;
  from: string;
  to: string;
}

export interface ConfigDiff {
  /** Applied now. */
  live: SettingChange[];
  /** Changed in the file, not applied: the running value stays until a restart. */
  restart: SettingChange[];
}

function show(value: unknown): string {
  if (value === null) return "none";
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.join(",");
  if (typeof value === "object") {
    const v = value as { hostname?: unknown; port?: unknown };
    if (v.hostname !== undefined && v.port !== undefined) return `${v.hostname}:${v.port}`;
    return JSON.stringify(value);
  }
  return String(value);
}

function changes(
  from: Config,
  to: Config,
  settings: readonly (readonly [ConfigField, string])[],
): SettingChange[] {
  const out: SettingChange[] = [];
  for (const [key, option] of settings) {
    const a = show(from[key]);
    const b = show(to[key]);
    if (a !== b) out.push({ option, from: a, to: b });
  }
  return out;
}

export function diffConfig(from: Config, to: Config): ConfigDiff {
  return { live: changes(from, to, LIVE_SETTINGS), restart: changes(from, to, RESTART_SETTINGS) };
}

/** `from` with the live settings of `to`: what the daemon runs with after a reload. */
export function applyLive(from: Config, to: Config): Config {
  const next: Config = { ...from };
  for (const [key] of LIVE_SETTINGS) Object.assign(next, { [key]: to[key] });
  next.exclude = [...to.exclude];
  return next;
}

/** The one event line of a reload: what changed, and what waits for a restart. */
export function reloadMessage(source: string, diff: ConfigDiff): string {
  const list = (cs: SettingChange[]) =>
    cs.map((c) => `${c.option} ${c.from} -> ${c.to}`).join(", ");
  const parts = [diff.live.length === 0 ? "nothing changed" : `applied ${list(diff.live)}`];
  if (diff.restart.length > 0) parts.push(`needs a restart: ${list(diff.restart)}`);
  return `configuration reloaded (${source}): ${parts.join("; ")}`;
}
