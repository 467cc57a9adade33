/**
 * Why hardware counters are unavailable, in words a user can act on: the
 * errno name, what it means here, and the facts that explain it (the
 * perf_event_paranoid value, root or not, the fd limit, a hypervisor or not).
 * `explainOpenFailure` is pure; `readPerfEnvironment` reads the few /proc
 * files it needs under a configurable root and never throws.
 */
import { hypervisorPresent, parseCpuinfo } from "../../core/topology_parse.ts";

export interface PerfEnvironment {
  /** /proc/sys/kernel/perf_event_paranoid, or null when unreadable. */
  paranoid: number | null;
  root: boolean;
  /** The CPU flags carry "hypervisor"; null when /proc/cpuinfo is unreadable. */
  hypervisor: boolean | null;
  /** Soft RLIMIT_NOFILE after raising it, or null when unknown. */
  fdLimit: number | null;
}

/** Read the paranoid level and the hypervisor flag under `procRoot`. */
export function readPerfEnvironment(
  procRoot: string,
  root: boolean,
  fdLimit: number | null,
): PerfEnvironment {
  return {
    paranoid: parseParanoid(readTextOrNull(`${procRoot}/sys/kernel/perf_event_paranoid`)),
    root,
    hypervisor: parseHypervisorFlag(readTextOrNull(`${procRoot}/cpuinfo`)),
    fdLimit,
  };
}

function readTextOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

/** "2\n" → 2; anything but one integer → null. */
export function parseParanoid(text: string | null): number | null {
  if (text === null) return null;
  const trimmed = text.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : null;
}

/**
 * Whether the first processor's flags in /proc/cpuinfo say "hypervisor"; null
 * when there is no cpuinfo or no flags line. Read as the topology reads it.
 */
export function parseHypervisorFlag(cpuinfo: string | null): boolean | null {
  if (cpuinfo === null) return null;
  const { flags } = parseCpuinfo(cpuinfo);
  return flags.size === 0 ? null : hypervisorPresent(flags);
}

/** "hypervisor present" / "no hypervisor flag" / "hypervisor unknown". */
function hypervisorWords(env: PerfEnvironment): string {
  if (env.hypervisor === null) return "hypervisor unknown";
  return env.hypervisor ? "hypervisor present" : "no hypervisor flag";
}

function paranoidWords(env: PerfEnvironment): string {
  return env.paranoid === null
    ? "perf_event_paranoid unreadable"
    : `perf_event_paranoid ${env.paranoid}`;
}

/**
 * The reason line for a perf_event_open that failed with `code` on `event`,
 * e.g. "perf_event_open(ls_dispatch.ld_dispatch): ENOENT: no hardware PMU
 * for this event (hypervisor present; perf_event_paranoid 2; root)".
 */
export function explainOpenFailure(event: string, code: string, env: PerfEnvironment): string {
  return `perf_event_open(${event}): ${code}: ${errnoMeaning(code, env)} (${facts(env)})`;
}

/** One tried event set and why it failed. */
export interface SetFailure {
  source: string;
  /** errno name when perf_event_open failed, null when the counts were implausible. */
  code: string | null;
  reason: string;
}

/**
 * One line for all the failed sets. When every set failed to open with the
 * same errno (the usual case: no PMU at all), say it once, naming the sets
 * tried; otherwise list each set's own reason.
 */
export function summarizeFailures(failures: readonly SetFailure[], env: PerfEnvironment): string {
  if (failures.length === 0) return "no event set to try";
  const code = failures[0]?.code ?? null;
  if (code !== null && failures.every((f) => f.code === code)) {
    const tried = failures.map((f) => f.source).join(", ");
    return `perf_event_open: ${code}: ${errnoMeaning(code, env)} (tried ${tried}; ${facts(env)})`;
  }
  return failures.map((f) => `${f.source}: ${f.reason}`).join("; ");
}

function facts(env: PerfEnvironment): string {
  return [hypervisorWords(env), paranoidWords(env), env.root ? "root" : "not root"].join("; ");
}

function errnoMeaning(code: string, env: PerfEnvironment): string {
  switch (code) {
    case "ENOENT":
    case "EOPNOTSUPP":
    case "ENODEV":
      return "no hardware PMU for this event";
    case "EACCES":
    case "EPERM":
      return env.root
        ? "refused although root (a security module or container policy)"
        : `refused: not root and ${paranoidWords(env)} (needs <= 2 for own processes, ` +
          "<= 0 or CAP_PERFMON for others)";
    case "EMFILE":
    case "ENFILE":
      return `out of file descriptors (limit ${env.fdLimit ?? "unknown"})`;
    case "EINVAL":
      return "the kernel rejected the event encoding";
    case "ENOSYS":
      return "perf_event_open is not supported by this kernel";
    default:
      return "perf_event_open failed";
  }
}

/** The reason for an event that opened but counted nothing believable. */
export function explainImplausible(event: string, detail: string, env: PerfEnvironment): string {
  return `${event} opened but ${detail} over a busy loop: treated as unavailable ` +
    `(${hypervisorWords(env)}; ${paranoidWords(env)})`;
}
