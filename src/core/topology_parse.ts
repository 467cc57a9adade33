/**
 * Pure parsers for the text of /sys and /proc topology files: text in, data
 * out, no I/O. Each returns null (or a partial result plus a problem string)
 * on malformed input instead of throwing, because a garbled sysfs file on one
 * node must not take the whole daemon down; topology.ts turns the problems
 * into `Topology.warnings`.
 */
import type { CpuIdentity, FiveLevelPaging } from "./types.ts";

/** Largest CPU or node number accepted from a range list: guards against "0-4294967295". */
const MAX_LIST_ID = 65535;

/**
 * Parse a kernel range list such as "0-3,5,8-9" (cpulist, node online).
 * An empty (or whitespace-only) text is the empty set, as a CPU-less node's
 * cpulist is. Returns null when any part is not a valid range.
 */
export function parseRangeList(text: string): number[] | null {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const ids = new Set<number>();
  for (const part of trimmed.split(",")) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (match === null) return null;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first || last > MAX_LIST_ID) return null;
    for (let id = first; id <= last; id++) ids.add(id);
  }
  return [...ids].sort((a, b) => a - b);
}

export interface NodeMemory {
  memTotalKb: number | null;
  memFreeKb: number | null;
}

/**
 * MemTotal and MemFree from a node's meminfo ("Node 0 MemTotal:  123 kB").
 * A line cut short (no number, no unit) counts as missing, never as 0.
 */
export function parseNodeMeminfo(text: string): NodeMemory {
  const memory: NodeMemory = { memTotalKb: null, memFreeKb: null };
  for (const line of text.split("\n")) {
    const match = /^Node\s+\d+\s+(MemTotal|MemFree):\s+(\d+)\s+kB\s*$/.exec(line);
    if (match === null) continue;
    const value = Number(match[2]);
    if (match[1] === "MemTotal") memory.memTotalKb = value;
    else memory.memFreeKb = value;
  }
  return memory;
}

/** The same two fields from the machine-wide /proc/meminfo ("MemTotal:  123 kB"). */
export function parseProcMeminfo(text: string): NodeMemory {
  const memory: NodeMemory = { memTotalKb: null, memFreeKb: null };
  for (const line of text.split("\n")) {
    const match = /^(MemTotal|MemFree):\s+(\d+)\s+kB\s*$/.exec(line);
    if (match === null) continue;
    if (match[1] === "MemTotal") memory.memTotalKb = Number(match[2]);
    else memory.memFreeKb = Number(match[2]);
  }
  return memory;
}

/** A SLIT row ("10 21 21"): null when any entry is not a non-negative integer. */
export function parseDistanceRow(text: string): number[] | null {
  const fields = text.trim().split(/\s+/).filter((field) => field !== "");
  if (fields.length === 0) return null;
  if (!fields.every((field) => /^\d+$/.test(field))) return null;
  return fields.map(Number);
}

const SIZE_UNITS: Readonly<Record<string, number>> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** A sysfs cache size ("32768K", "1M", "512") in bytes; null when malformed. */
export function parseCacheSize(text: string): number | null {
  const match = /^(\d+)([KMG]?)$/.exec(text.trim());
  if (match === null) return null;
  const unit = SIZE_UNITS[match[2] ?? ""];
  return unit === undefined ? null : Number(match[1]) * unit;
}

/** One cache of cpu0 as read from cache/index*: text fields, still raw. */
export interface CacheIndexText {
  index: string;
  level: string | null;
  size: string | null;
  type: string | null;
}

/**
 * The last-level cache size: the size of the highest-level data or unified
 * cache (instruction caches never hold page-table entries or chase data).
 * Returns the size plus one problem string per unusable index.
 */
export function pickLastLevelCache(
  caches: readonly CacheIndexText[],
): { bytes: number | null; problems: string[] } {
  const problems: string[] = [];
  let best: { level: number; bytes: number } | null = null;
  for (const cache of caches) {
    if (cache.type?.trim() === "Instruction") continue;
    const level = cache.level === null ? NaN : Number(cache.level.trim());
    const bytes = cache.size === null ? null : parseCacheSize(cache.size);
    if (!Number.isInteger(level) || level <= 0) {
      problems.push(`cache/${cache.index}: unreadable level ${JSON.stringify(cache.level)}`);
      continue;
    }
    if (bytes === null) {
      problems.push(`cache/${cache.index}: unreadable size ${JSON.stringify(cache.size)}`);
      continue;
    }
    if (best === null || level > best.level || (level === best.level && bytes > best.bytes)) {
      best = { level, bytes };
    }
  }
  return { bytes: best?.bytes ?? null, problems };
}

export interface CpuInfo {
  identity: CpuIdentity;
  /** The first processor's `flags` words (empty when absent). */
  flags: Set<string>;
  problems: string[];
}

/**
 * Vendor, family, model, model name, MHz and flags of the FIRST processor
 * block of /proc/cpuinfo (blocks are separated by a blank line). Numeric
 * fields that do not parse become null with a problem string.
 */
export function parseCpuinfo(text: string): CpuInfo {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") {
      if (fields.size > 0) break; // end of the first processor block
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    if (!fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  const problems: string[] = [];
  const numericField = (key: string, parse: (s: string) => number): number | null => {
    const raw = fields.get(key);
    if (raw === undefined) {
      problems.push(`cpuinfo: no "${key}" line`);
      return null;
    }
    const value = parse(raw);
    if (!Number.isFinite(value) || raw === "") {
      problems.push(`cpuinfo: unreadable "${key}" value ${JSON.stringify(raw)}`);
      return null;
    }
    return value;
  };
  const integer = (s: string) => (/^\d+$/.test(s) ? Number(s) : NaN);
  const decimal = (s: string) => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : NaN);
  const textField = (key: string): string | null => {
    const raw = fields.get(key);
    if (raw === undefined || raw === "") {
      problems.push(`cpuinfo: no "${key}" line`);
      return null;
    }
    return raw;
  };
  const identity: CpuIdentity = {
    vendor: textField("vendor_id"),
    family: numericField("cpu family", integer),
    model: numericField("model", integer),
    modelName: textField("model name"),
    // Some hypervisors and arm-style kernels omit "cpu MHz": unknown, not 0.
    mhz: fields.has("cpu MHz") ? numericField("cpu MHz", decimal) : null,
  };
  const flagText = fields.get("flags");
  if (flagText === undefined) problems.push('cpuinfo: no "flags" line');
  const flags = new Set((flagText ?? "").split(/\s+/).filter((flag) => flag !== ""));
  return { identity, flags, problems };
}

/** Whether the kernel command line carries `no5lvl` (a whole word, not a substring). */
export function cmdlineDisables5Level(cmdline: string): boolean {
  return cmdline.trim().split(/\s+/).includes("no5lvl");
}

/** LA57 on the CPU and not switched off on the kernel command line. */
export function fiveLevelPaging(flags: ReadonlySet<string>, cmdline: string): FiveLevelPaging {
  const cpuFlag = flags.has("la57");
  const disabledOnCmdline = cmdlineDisables5Level(cmdline);
  return { cpuFlag, disabledOnCmdline, active: cpuFlag && !disabledOnCmdline };
}

/** The CPU says it runs under a hypervisor (CPUID leaf 1, ECX bit 31). */
export function hypervisorPresent(flags: ReadonlySet<string>): boolean {
  return flags.has("hypervisor");
}
