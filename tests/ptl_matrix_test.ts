import assert from "node:assert/strict";
import { cellsOf, mergeFigures } from "../src/daemon/ptl_matrix.ts";
import type { CellFigure, NumaNode, Topology } from "../src/core/types.ts";

function topology(nodes: Partial<NumaNode>[]): Topology {
  return {
    nodes: nodes.map((n, id) => ({
      id,
      cpus: [],
      memTotalKb: 1024,
      memFreeKb: 512,
      distances: [],
      ...n,
    })),
  } as unknown as Topology;
}

Deno.test("cells: rows are nodes with CPUs, columns nodes with memory", () => {
  const t = topology([{ cpus: [0] }, { cpus: [1] }, { cpus: [], memTotalKb: 2048 }]);
  assert.deepEqual(cellsOf(t), [
    { row: 0, col: 0 },
    { row: 0, col: 1 },
    { row: 0, col: 2 },
    { row: 1, col: 0 },
    { row: 1, col: 1 },
    { row: 1, col: 2 },
  ]);
  assert.deepEqual(cellsOf(topology([{ cpus: [0], memTotalKb: 0 }])), []);
});

const cells = [{ row: 0, col: 0 }, { row: 0, col: 1 }, { row: 1, col: 0 }, { row: 1, col: 1 }];
const at = (startedAtMs: number) => ({ startedAtMs, durationMs: 1, bufferBytes: 2 << 20 });
const fig = (row: number, col: number, ns: number): CellFigure => ({
  row,
  col,
  latencyNs: ns,
  spread: 0.02,
  error: null,
});

Deno.test("a partial refresh: cells not measured yet are failed cells, never figures", () => {
  const m = mergeFigures(null, cells, [fig(0, 1, 150)], at(5));
  assert.deepEqual(m.rows, [0, 1]);
  assert.deepEqual(m.cols, [0, 1]);
  assert.deepEqual(m.latencyNs, [[null, 150], [null, null]]);
  assert.deepEqual(m.errors, [["not measured yet", null], [
    "not measured yet",
    "not measured yet",
  ]]);
  assert.equal(m.startedAtMs, 5);
});

Deno.test("later refreshes replace their cells and keep the others", () => {
  let m = mergeFigures(null, cells, cells.map((c) => fig(c.row, c.col, 100)), at(1));
  m = mergeFigures(m, cells, [fig(1, 0, 180), { ...fig(1, 1, 0), error: "placement" }], at(2));
  assert.deepEqual(m.latencyNs, [[100, 100], [180, null]]);
  assert.deepEqual(m.errors, [[null, null], [null, "placement"]]);
  assert.deepEqual(m.spread[1], [0.02, null]);
});

Deno.test("a matrix over other nodes is dropped, not shifted into the wrong cells", () => {
  const old = mergeFigures(null, cells, cells.map((c) => fig(c.row, c.col, 100)), at(1));
  const fewer = [{ row: 0, col: 0 }];
  const m = mergeFigures(old, fewer, [], at(2));
  assert.deepEqual(m.latencyNs, [[null]]);
  assert.deepEqual(m.errors, [["not measured yet"]]);
});
