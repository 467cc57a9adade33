/**
 * Pure parsers for the /proc/mitosis files of the Mitosis+WASP 6.4.0 kernel
 * (and the subset 7.0.0 keeps), written against the verbatim fixtures in
 * tests/fixtures/mitosis-6.4/. Text goes in, data and warnings come out:
 * malformed input never throws and never turns into a silent 0; an unknown
 * value is null and the warning says which file and line was odd.
 */
import type { ActiveProcess, CacheRow, MitosisDetection, MitosisState } from "../../core/types.ts";

export interface Parsed<T> {
  value: T;
  warnings: string[];
}

/** The files waspd reads, by their name under /proc/mitosis. */
export const MITOSIS_FILES = ["status", "active", "cache", "mode", "inherit", "history"] as const;
export type MitosisFileName = typeof MITOSIS_FILES[number];

const INTEGER = /^[+-]?\d+$/;

/** `mode` and `inherit` hold one integer and a newline. */
function parseSingleInteger(file: string, text: string): Parsed<number | null> {
  const trimmed = text.trim();
  if (!INTEGER.test(trimmed)) {
    return {
      value: null,
      warnings: [`${file}: expected one integer, got ${JSON.stringify(trimmed.slice(0, 40))}`],
    };
  }
  return { value: Number(trimmed), warnings: [] };
}

/** /proc/mitosis/mode: -1 default, 0 all page tables on node 0, 1 auto-enable. */
export function parseMode(text: string): Parsed<number | null> {
  const parsed = parseSingleInteger("mode", text);
  if (parsed.value !== null && ![-1, 0, 1].includes(parsed.value)) {
    parsed.warnings.push(`mode: ${parsed.value} is not one of -1, 0, 1`);
  }
  return parsed;
}

/** /proc/mitosis/inherit: 1 or -1 (a written 0 reads back as -1). */
export function parseInherit(text: string): Parsed<number | null> {
  const parsed = parseSingleInteger("inherit", text);
  if (parsed.value !== null && parsed.value !== 1 && parsed.value !== -1) {
    parsed.warnings.push(`inherit: ${parsed.value} is not 1 or -1`);
  }
  return parsed;
}

const CACHE_HEADER = /^\s*NODE\s+CACHED\s+HITS\s+MISSES\s+RETURNS\s*$/;
const CACHE_ROW = /^\s*(\d+|TOTAL)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/;

export interface CacheTable {
  rows: CacheRow[];
  /** The TOTAL row of `status` (the `cache` file has none). */
  total: Omit<CacheRow, "node"> | null;
}

/**
 * The `NODE CACHED HITS MISSES RETURNS` table, as the `cache` file prints it
 * and as `status` embeds it (indented, with a TOTAL row). Rows are read from
 * the header until the first line that is neither a separator nor a row.
 */
export function parseCacheTable(file: string, text: string): Parsed<CacheTable> {
  const warnings: string[] = [];
  const rows: CacheRow[] = [];
  let total: CacheTable["total"] = null;
  const lines = text.split("\n");
  const start = lines.findIndex((line) => CACHE_HEADER.test(line));
  if (start < 0) {
    return {
      value: { rows, total },
      warnings: [`${file}: no "NODE CACHED HITS MISSES RETURNS" table`],
    };
  }
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (/^\s*-+\s*$/.test(line)) continue;
    const match = CACHE_ROW.exec(line);
    if (!match) {
      // A data-looking line that does not fit is worth a warning; prose ends the table.
      if (/^\s*\d/.test(line)) {
        warnings.push(`${file}: line ${i + 1} is not a cache row: ${JSON.stringify(line)}`);
      } else break;
      continue;
    }
    const [cached, hits, misses, returns] = match.slice(2, 6).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    if (match[1] === "TOTAL") total = { cached, hits, misses, returns };
    else rows.push({ node: Number(match[1]), cached, hits, misses, returns });
  }
  if (rows.length === 0) warnings.push(`${file}: the cache table has no node rows`);
  return { value: { rows, total }, warnings };
}

export interface StatusReport {
  cache: CacheRow[];
  cacheMemoryKb: number | null;
  replicationActive: boolean | null;
  autoEnable: boolean | null;
  inheritance: boolean | null;
  totalProcesses: number | null;
  withReplication: number | null;
}

function enabledFlag(text: string, label: string): boolean | null {
  const match = new RegExp(`^\\s*${label}:\\s*(ENABLED|DISABLED)\\s*$`, "m").exec(text);
  return match ? match[1] === "ENABLED" : null;
}

function countLine(text: string, label: string): number | null {
  const match = new RegExp(`^\\s*${label}:\\s*(\\d+)\\s*$`, "m").exec(text);
  return match ? Number(match[1]) : null;
}

/** /proc/mitosis/status (6.4.0 only): the long report. */
export function parseStatus(text: string): Parsed<StatusReport> {
  const table = parseCacheTable("status", text);
  const warnings = [...table.warnings];
  const memory = /^\s*Cache memory:\s*(\d+)\s*KB\s*$/m.exec(text);
  const active = /^Replication is (ACTIVE|INACTIVE)\s*$/m.exec(text);
  const value: StatusReport = {
    cache: table.value.rows,
    cacheMemoryKb: memory ? Number(memory[1]) : null,
    replicationActive: active ? active[1] === "ACTIVE" : null,
    autoEnable: enabledFlag(text, "Auto-enable"),
    inheritance: enabledFlag(text, "Inheritance"),
    totalProcesses: countLine(text, "Total processes"),
    withReplication: countLine(text, "With replication"),
  };
  if (!memory) warnings.push('status: no "Cache memory: N KB" line');
  if (!active) warnings.push('status: no "Replication is ACTIVE/INACTIVE" line');
  const total = table.value.total;
  if (total) {
    const sum = table.value.rows.reduce((acc, row) => acc + row.cached, 0);
    if (sum !== total.cached) {
      warnings.push(`status: TOTAL cached ${total.cached} != sum of nodes ${sum}`);
    }
  }
  return { value, warnings };
}

// The name is comm and may itself hold parentheses: anchor on the last "(PID:".
const PROCESS_LINE = /^Process: (.*) \(PID: (\d+), TGID: (\d+)\)(?: \[([A-Z]+)\])?\s*$/;
const NODES_LINE = /^Replication nodes:\s*([\d,\s]*?)\s*\((\d+) nodes?\)\s*$/;

/** /proc/mitosis/active: one block per replicated process. */
export function parseActive(text: string): Parsed<ActiveProcess[]> {
  const warnings: string[] = [];
  const processes: ActiveProcess[] = [];
  let current: ActiveProcess | null = null;
  text.split("\n").forEach((line, index) => {
    if (line.startsWith("Process:")) {
      const match = PROCESS_LINE.exec(line);
      if (!match) {
        warnings.push(`active: line ${index + 1} is not a process header: ${JSON.stringify(line)}`);
        current = null;
        return;
      }
      current = {
        name: match[1] ?? "",
        pid: Number(match[2]),
        tgid: Number(match[3]),
        live: match[4] === "LIVE",
        cmdline: "",
        durationMs: null,
        nodes: [],
      };
      processes.push(current);
      return;
    }
    if (current === null) return;
    const block: ActiveProcess = current;
    if (line.startsWith("Cmdline:")) {
      // The kernel ends every argument with a space: trim only that end.
      block.cmdline = line.slice("Cmdline:".length).trim();
    } else if (line.startsWith("Duration:")) {
      const match = /^Duration:\s*(\d+)\s*ms\s*$/.exec(line);
      if (match) block.durationMs = Number(match[1]);
      else warnings.push(`active: pid ${block.pid}: odd duration ${JSON.stringify(line)}`);
    } else if (line.startsWith("Replication nodes:")) {
      const match = NODES_LINE.exec(line);
      if (!match) {
        warnings.push(`active: pid ${block.pid}: odd node list ${JSON.stringify(line)}`);
        return;
      }
      const nodes = (match[1] ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "")
        .map(Number);
      block.nodes = nodes;
      if (nodes.length !== Number(match[2])) {
        warnings.push(
          `active: pid ${block.pid}: ${nodes.length} nodes listed, header says ${match[2]}`,
        );
      }
    }
  });
  if (processes.length === 0 && !/No active processes/.test(text) && text.trim() !== "") {
    warnings.push("active: neither process blocks nor the 'No active processes' line");
  }
  return { value: processes, warnings };
}

/** /proc/mitosis/history, minimally: whether it holds entries. */
export function parseHistory(text: string): Parsed<{ empty: boolean | null }> {
  if (/No historical data available\./.test(text)) return { value: { empty: true }, warnings: [] };
  if (/Historical Statistics/.test(text)) return { value: { empty: false }, warnings: [] };
  return { value: { empty: null }, warnings: ["history: unrecognised content"] };
}

/**
 * Everything waspd knows about the kernel, from whichever files were read
 * (null = missing or unreadable). The cache comes from `cache`, else from the
 * table embedded in `status`.
 */
export function parseMitosisState(
  files: Partial<Record<string, string | null>>,
  detection: MitosisDetection,
): MitosisState {
  const warnings: string[] = [];
  const take = <T>(parsed: Parsed<T>): T => {
    warnings.push(...parsed.warnings);
    return parsed.value;
  };
  const status = files.status != null ? take(parseStatus(files.status)) : null;
  let cache: CacheRow[] = [];
  if (files.cache != null) cache = take(parseCacheTable("cache", files.cache)).rows;
  else if (status) cache = status.cache;
  const active = files.active != null ? take(parseActive(files.active)) : [];
  let replicationActive = status?.replicationActive ?? null;
  // 7.0.0 has no status: with an `active` file, a non-empty list still answers the question.
  if (replicationActive === null && files.active != null) replicationActive = active.length > 0;
  if (files.history != null) take(parseHistory(files.history));
  return {
    detection,
    mode: files.mode != null ? take(parseMode(files.mode)) : null,
    inherit: files.inherit != null ? take(parseInherit(files.inherit)) : null,
    cache,
    cacheMemoryKb: status?.cacheMemoryKb ?? null,
    replicationActive,
    active,
    warnings,
  };
}
