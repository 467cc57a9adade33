import assert from "node:assert/strict";
import { ptlMethodNote } from "../src/ui/render_ptl.ts";
import type { PtlMethodJson } from "../src/core/snapshot.ts";

const base: PtlMethodJson = {
  method: "flush",
  dram: true,
  note: "clflushopt before each chase, 2 MiB ring per node",
  buffer_bytes: 2 << 20,
  budget_cpu_pct: 1,
  budget_memory_bytes: 16 << 20,
  cell_cost_ms: 0.4,
  cells_per_refresh: 1,
  refresh_every_ms: 1000,
  matrix_every_ms: 1000,
  slowed: false,
};

Deno.test("the screen says when figures are not memory latency, loudly", () => {
  assert.deepEqual(
    ptlMethodNote({ ...base, method: "ring", dram: false, note: "ring fits in LLC" }),
    { text: "NOT memory latency: ring fits in LLC", tone: "bad" },
  );
});

Deno.test("the screen says when the budget slows the refresh, and to what", () => {
  const note = ptlMethodNote({ ...base, slowed: true, matrix_every_ms: 4000 });
  assert.equal(note?.tone, "notice");
  assert.match(note?.text ?? "", /^flush, budget 1% CPU: matrix every 4.0s$/);
});

Deno.test("otherwise only the method, and nothing before the first measurement", () => {
  assert.deepEqual(ptlMethodNote(base), { text: "flush", tone: "dim" });
  assert.equal(ptlMethodNote(null), null);
});
