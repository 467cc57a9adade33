/**
 * The metrics of what replication costs and does: replica memory (total,
 * cap, per process), page-table sizes, walk cycles, and damping, including
 * for a damped process that is idle (out of play).
 */
import assert from "node:assert/strict";
import { DaemonCounters } from "../src/metrics/daemon_counters.ts";
import { snapshotExposition } from "../src/metrics/snapshot_metrics.ts";
import { sampleProcess, sampleSnapshot } from "./fixtures/snapshot_sample.ts";
import { samples } from "./support/exposition.ts";

const BUILD = { version: "0.1.0", deno: "2.9.6" };

Deno.test("replica memory, page tables, walk cycles and damping are exported in bytes and seconds", () => {
  const base = sampleSnapshot();
  const active = sampleProcess(3, {
    status: "active",
    name: "gups",
    pte_kb: 16_400,
    replica_kb: 49_200,
    walk_cycles_per_load: 1.92,
  });
  const damped = sampleProcess(0, {
    status: "idle",
    name: "flapper",
    damping: { flips: 3, hold_ms: 8000, damped: true, no_gain: false, not_before_ms: null },
  });
  const s = sampleSnapshot({
    processes: [active, damped],
    daemon: { ...base.daemon!, replica_kb_total: 49_200, replica_cap_kb: 1024 * 1024 },
  });
  const m = samples(snapshotExposition(s, new DaemonCounters(), BUILD));
  const gups = `pid="${active.pid}",comm="gups"`;
  const flapper = `pid="${damped.pid}",comm="flapper"`;
  assert.equal(m.get("waspd_replica_memory_bytes"), 49_200 * 1024);
  assert.equal(m.get("waspd_replica_memory_cap_bytes"), 1024 ** 3);
  assert.equal(m.get("waspd_min_page_tables_bytes"), 512 * 1024);
  assert.equal(m.get("waspd_damp_max_seconds"), 600);
  assert.equal(m.get(`waspd_process_page_tables_bytes{${gups}}`), 16_400 * 1024);
  assert.equal(m.get(`waspd_process_replica_memory_bytes{${gups}}`), 49_200 * 1024);
  assert.equal(m.get(`waspd_process_walk_cycles_per_load{${gups}}`), 1.92);
  assert.equal(m.get(`waspd_process_damping_flips{${flapper}}`), 3);
  assert.equal(m.get(`waspd_process_reenable_hold_seconds{${flapper}}`), 8);
  assert.equal(m.get(`waspd_process_no_gain{${flapper}}`), 0);
  // An idle process without damping gets no series; no cap, no cap series; unknown, no sample.
  const plain = sampleSnapshot({
    processes: [sampleProcess(0, { status: "idle" }), { ...active, walk_cycles_per_load: null }],
  });
  const text = snapshotExposition(plain, new DaemonCounters(), BUILD);
  assert.doesNotMatch(text, /waspd_process_damping_flips\{/);
  assert.doesNotMatch(text, /waspd_replica_memory_cap_bytes/);
  assert.doesNotMatch(text, /waspd_process_walk_cycles_per_load\{/);
});
