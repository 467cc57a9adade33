/**
 * Reads the machine's NUMA topology from /sys and /proc (under configurable
 * roots so tests can point at fixture trees). All parsing lives in
 * core/topology_parse.ts; this module only reads files and collects problems.
 *
 * Never throws for a missing or malformed file: the daemon must keep running
 * on odd machines, so each problem becomes a readable line in
 * `Topology.warnings` and the value becomes null, [] or a safe default.
 */
import type { NumaNode, Topology } from "../core/types.ts";
import {
  type CacheIndexText,
  type CpuInfo,
  fiveLevelPaging,
  hypervisorPresent,
  parseCpuinfo,
  parseDistanceRow,
  parseNodeMeminfo,
  parseProcMeminfo,
  parseRangeList,
  pickLastLevelCache,
} from "../core/topology_parse.ts";
import { errorMessage } from "../core/error_message.ts";

/*
 * The files are read synchronously: they are a few small /sys and /proc files,
 * read again for every PTL refresh (once a second), and an async read costs
 * more of the main thread (a promise and a hop to the blocking pool) than the
 * read itself.
 */

/** A file's text, or null when it cannot be read (the reason goes to `warnings`). */
function readOptional(path: string, warnings: string[]): Promise<string | null> {
  try {
    return Promise.resolve(Deno.readTextFileSync(path));
  } catch (error) {
    warnings.push(`${path}: ${describeReadError(error)}`);
    return Promise.resolve(null);
  }
}

/** A file's text, or null when it does not exist (absence is normal there). */
function readIfPresent(path: string): Promise<string | null> {
  try {
    return Promise.resolve(Deno.readTextFileSync(path));
  } catch {
    return Promise.resolve(null);
  }
}

function describeReadError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "missing";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return errorMessage(error);
}

const NODE_ROOT = "devices/system/node";

/** Online node ids: the `online` list, else the nodeN directories present. */
async function readOnlineNodes(sysRoot: string, warnings: string[]): Promise<number[] | null> {
  const path = `${sysRoot}/${NODE_ROOT}/online`;
  const text = await readIfPresent(path);
  const parsed = text === null ? null : parseRangeList(text);
  if (parsed !== null && parsed.length > 0) return parsed;
  const fromDirs = await listNodeDirectories(`${sysRoot}/${NODE_ROOT}`);
  if (text !== null) {
    warnings.push(
      `${path}: unreadable node list ${JSON.stringify(text.trim())}; ` +
        `using the node directories present (${fromDirs.join(",") || "none"})`,
    );
  }
  return fromDirs.length > 0 ? fromDirs : null;
}

async function listNodeDirectories(dir: string): Promise<number[]> {
  const ids: number[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const match = /^node(\d+)$/.exec(entry.name);
      if (match !== null && entry.isDirectory) ids.push(Number(match[1]));
    }
  } catch {
    // No node directory at all: the caller falls back to a single node.
  }
  return ids.sort((a, b) => a - b);
}

async function readNode(
  sysRoot: string,
  id: number,
  nodeCount: number,
  warnings: string[],
): Promise<NumaNode> {
  const dir = `${sysRoot}/${NODE_ROOT}/node${id}`;
  // One file after the other so the warnings come out in a stable order.
  const cpuText = await readOptional(`${dir}/cpulist`, warnings);
  const memText = await readOptional(`${dir}/meminfo`, warnings);
  const distanceText = await readOptional(`${dir}/distance`, warnings);

  let cpus: number[] = [];
  if (cpuText !== null) {
    const parsed = parseRangeList(cpuText);
    if (parsed === null) warnings.push(`${dir}/cpulist: unreadable ${JSON.stringify(cpuText)}`);
    cpus = parsed ?? [];
  }

  const memory = memText === null
    ? { memTotalKb: null, memFreeKb: null }
    : parseNodeMeminfo(memText);
  if (memText !== null && (memory.memTotalKb === null || memory.memFreeKb === null)) {
    warnings.push(`${dir}/meminfo: MemTotal or MemFree missing or truncated`);
  }

  let distances: number[] = [];
  if (distanceText !== null) {
    const parsed = parseDistanceRow(distanceText);
    if (parsed === null) {
      warnings.push(`${dir}/distance: unreadable row ${JSON.stringify(distanceText.trim())}`);
    } else {
      if (parsed.length !== nodeCount) {
        warnings.push(
          `${dir}/distance: ${parsed.length} entries for ${nodeCount} online nodes`,
        );
      }
      distances = parsed;
    }
  }
  return { id, cpus, ...memory, distances };
}

/** Read every node at once, but keep their warnings in node order (stable output). */
async function readNodesInOrder(
  sysRoot: string,
  ids: readonly number[],
  warnings: string[],
): Promise<NumaNode[]> {
  const perNode = ids.map(() => [] as string[]);
  const nodes = await Promise.all(
    ids.map((id, i) => readNode(sysRoot, id, ids.length, perNode[i] ?? [])),
  );
  for (const nodeWarnings of perNode) warnings.push(...nodeWarnings);
  return nodes;
}

/** Read cpu0's cache/index* directories (level, size, type). */
async function readCpu0Caches(sysRoot: string, warnings: string[]): Promise<CacheIndexText[]> {
  const dir = `${sysRoot}/devices/system/cpu/cpu0/cache`;
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (/^index\d+$/.test(entry.name)) names.push(entry.name);
    }
  } catch (error) {
    warnings.push(`${dir}: ${describeReadError(error)}; last-level cache size unknown`);
    return [];
  }
  names.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  return await Promise.all(names.map(async (index) => {
    const [level, size, type] = await Promise.all(
      ["level", "size", "type"].map((file) => readIfPresent(`${dir}/${index}/${file}`)),
    );
    return { index, level: level ?? null, size: size ?? null, type: type ?? null };
  }));
}

/** /proc/cpuinfo parsed; a missing file gives all-null identity and no flags. */
export async function readCpuInfo(procRoot = "/proc"): Promise<CpuInfo> {
  const problems: string[] = [];
  const text = await readOptional(`${procRoot}/cpuinfo`, problems);
  if (text === null) {
    return {
      identity: { vendor: null, family: null, model: null, modelName: null, mhz: null },
      flags: new Set(),
      problems,
    };
  }
  return parseCpuinfo(text);
}

/** The first CPU's flags: `hypervisor`, `la57`, ... (empty set when unreadable). */
export async function readCpuFlags(procRoot = "/proc"): Promise<Set<string>> {
  return (await readCpuInfo(procRoot)).flags;
}

/** True when /proc/cpuinfo says the machine is a virtual one. */
export async function readHypervisorPresent(procRoot = "/proc"): Promise<boolean> {
  return hypervisorPresent(await readCpuFlags(procRoot));
}

/**
 * A kernel without NUMA support has no node directory: describe the machine
 * as one node 0 holding every online CPU and all of /proc/meminfo.
 */
async function singleNodeFallback(
  sysRoot: string,
  procRoot: string,
  warnings: string[],
): Promise<NumaNode> {
  warnings.push(`${sysRoot}/${NODE_ROOT}: no NUMA node information; treating as one node 0`);
  const cpuText = await readOptional(`${sysRoot}/devices/system/cpu/online`, warnings);
  const cpus = cpuText === null ? [] : parseRangeList(cpuText) ?? [];
  const memText = await readOptional(`${procRoot}/meminfo`, warnings);
  const memory = memText === null
    ? { memTotalKb: null, memFreeKb: null }
    : parseProcMeminfo(memText);
  return { id: 0, cpus, ...memory, distances: [10] };
}

/**
 * What the topology holds that cannot change while the system runs: the
 * caches, the CPU's identity and flags, the kernel command line. Read once
 * by a long-running reader (readTopology's `fixed`): /proc/cpuinfo alone is
 * a file per CPU to generate, and the cache directories a dozen files.
 */
export interface FixedFacts {
  llcBytes: number | null;
  cpu: Topology["cpu"];
  fiveLevelPaging: Topology["fiveLevelPaging"];
  warnings: string[];
}

/** Read the {@link FixedFacts}. */
export async function readFixedFacts(sysRoot = "/sys", procRoot = "/proc"): Promise<FixedFacts> {
  const warnings: string[] = [];
  const caches = await readCpu0Caches(sysRoot, warnings);
  const llc = pickLastLevelCache(caches);
  warnings.push(...llc.problems.map((problem) => `${sysRoot}/devices/system/cpu/cpu0/${problem}`));
  if (caches.length > 0 && llc.bytes === null) warnings.push("last-level cache size unknown");

  const cpuInfo = await readCpuInfo(procRoot);
  warnings.push(...cpuInfo.problems.map((p) => `${procRoot}/${p}`));
  const cmdline = await readOptional(`${procRoot}/cmdline`, warnings) ?? "";
  return {
    llcBytes: llc.bytes,
    cpu: cpuInfo.identity,
    fiveLevelPaging: fiveLevelPaging(cpuInfo.flags, cmdline),
    warnings,
  };
}

/**
 * The machine's topology as /sys and /proc describe it right now: the nodes
 * (CPUs, free memory, distances) read afresh, the {@link FixedFacts} from
 * `fixed` when given (read once by the caller), else read too.
 */
export async function readTopology(
  sysRoot = "/sys",
  procRoot = "/proc",
  fixed?: Promise<FixedFacts>,
): Promise<Topology> {
  const warnings: string[] = [];
  const online = await readOnlineNodes(sysRoot, warnings);
  const nodes = online === null
    ? [await singleNodeFallback(sysRoot, procRoot, warnings)]
    : await readNodesInOrder(sysRoot, online, warnings);
  const facts = await (fixed ?? readFixedFacts(sysRoot, procRoot));
  return {
    nodes,
    llcBytes: facts.llcBytes,
    cpu: facts.cpu,
    fiveLevelPaging: facts.fiveLevelPaging,
    warnings: [...warnings, ...facts.warnings],
  };
}
