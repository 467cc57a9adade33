/**
 * The text of /proc/mitosis files as the 6.4.0 kernel prints them, for the
 * simulated kernel. Column widths were read off the verbatim fixtures
 * (tests/fixtures/mitosis-6.4/): the model's output for the same state is
 * byte-identical, so the real parsers are exercised on the simulated machine.
 */
import type { CacheRow } from "../core/types.ts";

interface RenderableKernel {
  nodes: number[];
  mode: number;
  inherit: number;
  cr3: { writes: number; replicaUses: number; primaryUses: number };
  cache: Map<number, { cached: number; hits: number; misses: number; returns: number }>;
  processes: Map<number, { mask: number; cacheOnly: boolean }>;
}

interface RenderableProcess {
  pid: number;
  tgid: number;
  name: string;
  argv: string[];
  mask: number;
  enabledAtMs: number | null;
}

/** `%-5s%12s%13s%13s%13s`, the table layout of both `cache` and `status`. */
function cacheLine(cells: (string | number)[]): string {
  const [node, ...rest] = cells.map(String);
  const widths = [12, 13, 13, 13];
  return (node ?? "").padEnd(5) + rest.map((cell, i) => cell.padStart(widths[i] ?? 13)).join("");
}

const CACHE_HEADER = cacheLine(["NODE", "CACHED", "HITS", "MISSES", "RETURNS"]);

function rowCells(row: CacheRow): number[] {
  return [row.node, row.cached, row.hits, row.misses, row.returns];
}

export function renderCache(rows: CacheRow[]): string {
  return [
    "Mitosis Page Table Cache",
    "========================",
    "",
    CACHE_HEADER,
    "-".repeat(60),
    ...rows.map((row) => cacheLine(rowCells(row))),
    "",
  ].join("\n");
}

export function renderStatus(k: RenderableKernel): string {
  const rows: CacheRow[] = k.nodes.map((node) => {
    const s = k.cache.get(node) ?? { cached: 0, hits: 0, misses: 0, returns: 0 };
    return { node, ...s };
  });
  const sum = (pick: (r: CacheRow) => number) => rows.reduce((acc, r) => acc + pick(r), 0);
  const total = {
    cached: sum((r) => r.cached),
    hits: sum((r) => r.hits),
    misses: sum((r) => r.misses),
    returns: sum((r) => r.returns),
  };
  const processes = [...k.processes.values()];
  const replicating = processes.filter((p) => p.mask !== 0).length;
  const cr3Uses = k.cr3.replicaUses + k.cr3.primaryUses;
  const lookups = total.hits + total.misses;
  const zeros = (title: string, labels: string[]) => [
    `${title}:`,
    ...labels.map((label) => `  ${label}: 0`),
    "",
  ];
  return [
    "Mitosis Page Table Replication Status",
    "======================================",
    "",
    "Configuration:",
    "  PTI (Page Table Isolation): inactive",
    "  PGD allocation order: 0 (1 page)",
    `  Auto-enable: ${k.mode === 1 ? "ENABLED" : "DISABLED"}`,
    `  Inheritance: ${k.inherit === 1 ? "ENABLED" : "DISABLED"}`,
    // ASSUMED: the kernel's wording for mode 0 was not captured; the model keeps this line.
    "  Mode: per-process (use prctl PR_SET_PGTABLE_CACHE_ONLY)",
    "",
    "CR3 Statistics:",
    `  CR3 writes: ${k.cr3.writes}`,
    `  Replica uses: ${k.cr3.replicaUses}`,
    `  Primary uses: ${k.cr3.primaryUses}`,
    ...(cr3Uses > 0
      ? [`  Replica hit rate: ${Math.floor((k.cr3.replicaUses * 100) / cr3Uses)}%`]
      : []),
    "",
    ...zeros("Replicated Set Operations", [
      "PTE sets",
      "PMD sets",
      "PUD sets",
      "P4D sets",
      "PGD sets",
      "Total replicated sets",
    ]),
    ...zeros("Replicated Clear Operations", [
      "PTE clears",
      "PMD clears",
      "PUD clears",
      "P4D clears",
      "PGD clears",
      "Total replicated clears",
    ]),
    ...zeros("Get Operations with Flag Aggregation", [
      "PTE gets (aggregated)",
      "PMD gets (aggregated)",
      "PUD gets (aggregated)",
      "Total aggregated gets",
    ]),
    ...zeros("Special Operations", ["Prot commits", "Ptep get and clear"]),
    ...zeros("PTE Replication (when enabled)", [
      "Allocation attempts",
      "Allocation success",
      "Release calls",
      "Replicas freed",
    ]),
    "Page Table Cache:",
    `  ${CACHE_HEADER}`,
    ...rows.map((row) => `  ${cacheLine(rowCells(row))}`),
    `  ${cacheLine(["TOTAL", total.cached, total.hits, total.misses, total.returns])}`,
    ...(lookups > 0 ? [`  Cache hit rate: ${Math.floor((total.hits * 100) / lookups)}%`] : []),
    // 4 KiB per cached page-table page.
    `  Cache memory: ${total.cached * 4} KB`,
    "",
    "Process Summary:",
    `  Total processes: ${processes.length}`,
    `  With replication: ${replicating}`,
    `  Cache-only mode: ${processes.filter((p) => p.cacheOnly).length}`,
    "",
    `Replication is ${replicating > 0 ? "ACTIVE" : "INACTIVE"}`,
    "",
    "Detailed per-process stats available at:",
    "  /proc/mitosis/active   - List active replicated processes",
    "  /proc/mitosis/history  - Historical data",
    "  /proc/mitosis/cache    - Cache control (write N/-1/-2)",
    "",
  ].join("\n");
}

function allocationTable(nodes: number[]): string[] {
  const header = "LEVEL".padEnd(7) + nodes.map((n) => `NODE${n}`.padStart(20)).join("") +
    "TOTAL".padStart(23);
  // The model tracks no per-level allocations: zeros, laid out as the kernel does.
  const cell = "0/0".padStart(9) + "      [" + "0".padStart(4) + "]";
  const rows = ["PGD", "P4D", "PUD", "PMD", "PTE"].map((level) =>
    level.padEnd(8) + cell.repeat(nodes.length + 1)
  );
  return [header, "-".repeat(80), ...rows];
}

export function renderActive(
  processes: RenderableProcess[],
  nodes: number[],
  nowMs: number,
): string {
  const head = [
    "Mitosis Page Table Replication - Active Processes",
    "===================================================",
    "",
  ];
  if (processes.length === 0) {
    return [...head, "(No active processes with replication enabled)", ""].join("\n");
  }
  const blocks = processes.flatMap((p) => {
    const replicaNodes = nodes.filter((n) => (p.mask & (1 << n)) !== 0);
    return [
      "=".repeat(80),
      `Process: ${p.name} (PID: ${p.pid}, TGID: ${p.tgid}) [LIVE]`,
      // The kernel prints each argument followed by a space.
      `Cmdline: ${p.argv.map((arg) => `${arg} `).join("")}`,
      `Duration: ${Math.max(0, Math.round(nowMs - (p.enabledAtMs ?? nowMs)))} ms`,
      `Replication nodes: ${replicaNodes.join(", ")} (${replicaNodes.length} nodes)`,
      "",
      "TLB Statistics:",
      // ASSUMED: one shootdown when replication starts (what the fixture shows).
      "  Shootdowns: 1 events",
      "  IPIs sent:  0",
      "",
      "Peak Page Table Allocations (primary/replica) [entries]:",
      ...allocationTable(nodes),
      "",
      "Memory: 0 primary pages (0 KB), 0 replica pages (0 KB)",
      "Total:  0 pages (0 KB)",
      "",
    ];
  });
  return [...head, ...blocks, ""].join("\n");
}

/** History: the model keeps no snapshots (ASSUMED format of entries unknown). */
export function renderHistory(): string {
  return [
    "Mitosis Page Table Replication - Historical Statistics",
    "========================================================",
    "(Entries are immutable snapshots, keyed by seq_id not PID)",
    "",
    "No historical data available.",
    "",
  ].join("\n");
}
