import assert from "node:assert/strict";
import {
  parseActive,
  parseCacheTable,
  parseHistory,
  parseInherit,
  parseMitosisState,
  parseMode,
  parseStatus,
} from "../src/sys/mitosis/parse.ts";
import { classifyMitosis } from "../src/sys/mitosis/detect.ts";
import type { MitosisDetection } from "../src/core/types.ts";

const FIXTURES = new URL("./fixtures/mitosis-6.4/", import.meta.url);
const fixture = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES));

const DETECTED: MitosisDetection = {
  present: true,
  variant: "wasp-6.4",
  files: ["active", "cache", "history", "inherit", "mode", "status"],
  reason: null,
};

const cacheColumns = (
  rows: { node: number; cached: number; hits: number; misses: number; returns: number }[],
) => rows.map((r) => [r.node, r.cached, r.hits, r.misses, r.returns]);

Deno.test("mode and inherit fixtures parse to their numbers", () => {
  assert.deepEqual(parseMode(fixture("initial.mode")), { value: -1, warnings: [] });
  assert.deepEqual(parseMode(fixture("mode-after-write-1")), { value: 1, warnings: [] });
  assert.deepEqual(parseMode(fixture("mode-after-write-minus1")), { value: -1, warnings: [] });
  assert.deepEqual(parseMode(fixture("mode-after-write-junk")), { value: -1, warnings: [] });
  assert.deepEqual(parseInherit(fixture("initial.inherit")), { value: 1, warnings: [] });
  assert.deepEqual(parseInherit(fixture("replicated.inherit")), { value: 1, warnings: [] });
  assert.deepEqual(parseInherit(fixture("inherit-after-write-0")), { value: -1, warnings: [] });
  assert.deepEqual(parseInherit(fixture("inherit-after-write-1")), { value: 1, warnings: [] });
});

Deno.test("malformed mode / inherit give null and a warning, never a throw or a 0", () => {
  for (const text of ["", "junk\n", "1 2\n", "0x1\n"]) {
    const parsed = parseMode(text);
    assert.equal(parsed.value, null, text);
    assert.equal(parsed.warnings.length, 1);
  }
  const odd = parseInherit("5\n");
  assert.equal(odd.value, 5);
  assert.match(odd.warnings[0] ?? "", /not 1 or -1/);
});

Deno.test("every cache fixture parses to the table's numbers", () => {
  const expected: Record<string, number[][]> = {
    "initial.cache": [[0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [2, 0, 0, 0, 0], [3, 0, 0, 0, 0]],
    "replicated.cache": [[0, 0, 0, 35, 0], [1, 0, 0, 8, 0], [2, 0, 0, 43, 0], [3, 0, 0, 43, 0]],
    "cache-after-write-100": [
      [0, 100, 0, 35, 100],
      [1, 100, 0, 8, 100],
      [2, 100, 0, 43, 100],
      [3, 100, 0, 43, 100],
    ],
    "cache-after-write-minus1": [
      [0, 0, 0, 35, 100],
      [1, 0, 0, 8, 100],
      [2, 0, 0, 43, 100],
      [3, 0, 0, 43, 100],
    ],
    "cache-after-write-minus2": [[0, 0, 0, 0, 0], [1, 0, 0, 0, 0], [2, 0, 0, 0, 0], [
      3,
      0,
      0,
      0,
      0,
    ]],
  };
  for (const [name, rows] of Object.entries(expected)) {
    const parsed = parseCacheTable("cache", fixture(name));
    assert.deepEqual(parsed.warnings, [], name);
    assert.deepEqual(cacheColumns(parsed.value.rows), rows, name);
    assert.equal(parsed.value.total, null);
  }
});

Deno.test("a 'Node N: P pages' per-node line is not the table: warned, no rows", () => {
  const parsed = parseCacheTable("cache", "  Node 0: 12 pages\n  Node 1: 3 pages\n");
  assert.deepEqual(parsed.value.rows, []);
  assert.match(parsed.warnings[0] ?? "", /no "NODE CACHED/);
});

Deno.test("a broken cache row is warned about and skipped", () => {
  const text = fixture("initial.cache").replace("2               0", "2               x");
  const parsed = parseCacheTable("cache", text);
  assert.deepEqual(parsed.value.rows.map((r) => r.node), [0, 1, 3]);
  assert.equal(parsed.warnings.length, 1);
});

Deno.test("status fixtures: cache table, TOTAL check, memory, active flag, configuration", () => {
  const initial = parseStatus(fixture("initial.status"));
  assert.deepEqual(initial.warnings, []);
  assert.equal(initial.value.replicationActive, false);
  assert.equal(initial.value.cacheMemoryKb, 0);
  assert.equal(initial.value.autoEnable, false);
  assert.equal(initial.value.inheritance, true);
  assert.equal(initial.value.totalProcesses, 2);
  assert.equal(initial.value.withReplication, 0);
  assert.equal(initial.value.cache.length, 4);

  const replicated = parseStatus(fixture("replicated.status"));
  assert.deepEqual(replicated.warnings, []);
  assert.equal(replicated.value.replicationActive, true);
  assert.equal(replicated.value.totalProcesses, 3);
  assert.equal(replicated.value.withReplication, 1);
  assert.deepEqual(replicated.value.cache.map((r) => r.misses), [35, 8, 43, 43]);
});

Deno.test("active fixtures: none, one live process with its nodes and cmdline", () => {
  assert.deepEqual(parseActive(fixture("initial.active")), { value: [], warnings: [] });
  assert.deepEqual(parseActive(fixture("after-disable.active")), { value: [], warnings: [] });
  const parsed = parseActive(fixture("replicated.active"));
  assert.deepEqual(parsed.warnings, []);
  assert.deepEqual(parsed.value, [{
    name: "mitosis_probe",
    pid: 101,
    tgid: 101,
    live: true,
    cmdline: "/bin/mitosis_probe",
    durationMs: 511,
    nodes: [0, 1, 2, 3],
  }]);
});

Deno.test("active: a comm with parentheses and a mismatched node count", () => {
  const text = [
    "Process: a (b) c (PID: 7, TGID: 5) [LIVE]",
    "Cmdline: x y ",
    "Duration: soon",
    "Replication nodes: 0, 2 (3 nodes)",
    "Process: garbage",
  ].join("\n");
  const parsed = parseActive(text);
  assert.equal(parsed.value.length, 1);
  assert.equal(parsed.value[0]?.name, "a (b) c");
  assert.equal(parsed.value[0]?.tgid, 5);
  assert.equal(parsed.value[0]?.durationMs, null);
  assert.deepEqual(parsed.value[0]?.nodes, [0, 2]);
  assert.equal(parsed.warnings.length, 3);
});

Deno.test("history fixtures say empty", () => {
  assert.deepEqual(parseHistory(fixture("initial.history")).value, { empty: true });
  assert.deepEqual(parseHistory(fixture("replicated.history")).value, { empty: true });
  assert.equal(parseHistory("???").value.empty, null);
});

Deno.test("parseMitosisState on the replicated fixture set", () => {
  const state = parseMitosisState({
    status: fixture("replicated.status"),
    active: fixture("replicated.active"),
    cache: fixture("replicated.cache"),
    mode: fixture("initial.mode"),
    inherit: fixture("replicated.inherit"),
    history: fixture("replicated.history"),
  }, DETECTED);
  assert.deepEqual(state.warnings, []);
  assert.equal(state.mode, -1);
  assert.equal(state.inherit, 1);
  assert.equal(state.cacheMemoryKb, 0);
  assert.equal(state.replicationActive, true);
  assert.deepEqual(state.active.map((a) => [a.pid, a.nodes]), [[101, [0, 1, 2, 3]]]);
  assert.deepEqual(state.cache.map((r) => r.misses), [35, 8, 43, 43]);
});

Deno.test("parseMitosisState with missing files: nulls, the status table as a cache fallback", () => {
  const state = parseMitosisState({ status: fixture("initial.status"), mode: null }, DETECTED);
  assert.equal(state.mode, null);
  assert.equal(state.inherit, null);
  assert.equal(state.cache.length, 4);
  assert.deepEqual(state.active, []);
  // 7.0.0-like: no status, no active: replication state unknown, not "inactive".
  const seven = parseMitosisState({ cache: fixture("initial.cache"), mode: "-1\n" }, DETECTED);
  assert.equal(seven.replicationActive, null);
  assert.equal(seven.cacheMemoryKb, null);
});

Deno.test("classifyMitosis: stock kernel, 6.4, 7.0, odd sets", () => {
  const stock = classifyMitosis(null, { ok: false, code: "EINVAL" });
  assert.equal(stock.present, false);
  assert.match(stock.reason ?? "", /no \/proc\/mitosis and prctl\(101\) gives EINVAL/);
  const wasp64 = classifyMitosis(
    ["status", "active", "cache", "mode", "inherit", "history"],
    { ok: true, mask: 0 },
  );
  assert.deepEqual([wasp64.present, wasp64.variant, wasp64.reason], [true, "wasp-6.4", null]);
  const wasp70 = classifyMitosis(["cache", "verify", "inherit", "mode"], { ok: true, mask: 0 });
  assert.deepEqual([wasp70.present, wasp70.variant], [true, "wasp-7.0"]);
  const odd = classifyMitosis(["cache"], { ok: true, mask: 0 });
  assert.equal(odd.variant, "unknown");
  assert.match(odd.reason ?? "", /unrecognised/);
  const noPrctl = classifyMitosis(["cache", "verify", "inherit", "mode"], {
    ok: false,
    code: "EINVAL",
  });
  assert.equal(noPrctl.present, false);
  const noProc = classifyMitosis(null, { ok: true, mask: 0 });
  assert.equal(noProc.present, false);
  assert.match(noProc.reason ?? "", /without the WASP interface/);
});
