import assert from "node:assert/strict";
import {
  type BudgetConfig,
  budgetReport,
  type BudgetState,
  chargeRefresh,
  DUE_SLACK,
  initialBudget,
  planRefresh,
} from "../src/daemon/ptl_budget.ts";

const ONE_PERCENT: BudgetConfig = { cpuFraction: 0.01, intervalMs: 1000 };

/** Plan at `now`, then charge `costPerCell` for each cell handed out. */
function step(state: BudgetState, config: BudgetConfig, cells: number, now: number, cost: number) {
  const { plan, state: next } = planRefresh(state, config, cells, now);
  if (plan.kind === "wait") return { plan, state: next };
  return { plan, state: chargeRefresh(next, plan.cells.length, cost * plan.cells.length) };
}

Deno.test("the first refresh takes every cell, whatever it will cost", () => {
  const { plan } = planRefresh(initialBudget(), ONE_PERCENT, 16, 0);
  assert.deepEqual(plan, { kind: "refresh", cells: [...Array(16).keys()] });
});

Deno.test("cheap cells: every cell each interval, nothing slowed", () => {
  let s = initialBudget();
  s = step(s, ONE_PERCENT, 4, 0, 0.4).state;
  const r = step(s, ONE_PERCENT, 4, 1000, 0.4);
  assert.deepEqual(r.plan, { kind: "refresh", cells: [0, 1, 2, 3] });
  assert.deepEqual(budgetReport(r.state, ONE_PERCENT, 4), {
    cellCostMs: 0.4,
    cellsPerRefresh: 4,
    refreshEveryMs: 1000,
    matrixEveryMs: 1000,
    slowed: false,
  });
});

Deno.test("a refresh is due every -i, not before (a tick a little early still counts)", () => {
  let s = step(initialBudget(), ONE_PERCENT, 1, 0, 0.4).state;
  const early = planRefresh(s, ONE_PERCENT, 1, 500);
  assert.equal(early.plan.kind, "wait");
  const almost = 1000 * (1 - DUE_SLACK);
  s = early.state;
  assert.equal(planRefresh(s, ONE_PERCENT, 1, almost).plan.kind, "refresh");
});

Deno.test("costly cells: as many per interval as the budget pays, round-robin over the matrix", () => {
  // 16 cells at 2.5 ms, 10 ms per interval: 4 cells per refresh, the matrix every 4 s.
  let s = step(initialBudget(), ONE_PERCENT, 16, 0, 2.5).state;
  // The first refresh cost 40 ms: a debt of 30 ms paid back before more is measured.
  const seen: number[][] = [];
  for (let t = 1000; t <= 12_000; t += 1000) {
    const r = step(s, ONE_PERCENT, 16, t, 2.5);
    s = r.state;
    if (r.plan.kind === "refresh") seen.push(r.plan.cells);
  }
  assert.ok(seen.length >= 4, `refreshes after the debt: ${JSON.stringify(seen)}`);
  // Once paid back: 4 cells per interval, consecutive, wrapping around the matrix.
  assert.deepEqual(seen.slice(-4).flat().sort((a, b) => a - b), [...Array(16).keys()]);
  assert.ok(seen.slice(-4).every((cells) => cells.length === 4));
  assert.deepEqual(budgetReport(s, ONE_PERCENT, 16), {
    cellCostMs: 2.5,
    cellsPerRefresh: 4,
    refreshEveryMs: 1000,
    matrixEveryMs: 4000,
    slowed: true,
  });
});

Deno.test("a cell costing more than an interval's budget slows the refresh, and says by how much", () => {
  // 30 ms per cell at 1 % of a core: one cell every 3 s.
  let s = step(initialBudget(), ONE_PERCENT, 1, 0, 30).state;
  const starts: number[] = [];
  for (let t = 1000; t <= 20_000; t += 1000) {
    const r = step(s, ONE_PERCENT, 1, t, 30);
    s = r.state;
    if (r.plan.kind === "refresh") starts.push(t);
  }
  const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
  assert.ok(gaps.every((g) => g >= 3000), `gaps ${gaps}`);
  const report = budgetReport(s, ONE_PERCENT, 1);
  assert.equal(report?.slowed, true);
  assert.equal(report?.refreshEveryMs, 3000);
});

Deno.test("spent CPU over a long run stays within the budget", () => {
  let s = initialBudget();
  let spent = 0;
  for (let t = 0; t <= 600_000; t += 1000) {
    const r = step(s, ONE_PERCENT, 9, t, 1.7);
    s = r.state;
    if (r.plan.kind === "refresh") spent += 1.7 * r.plan.cells.length;
  }
  // 1 % of 600 s is 6000 ms, plus the first refresh's whole matrix.
  assert.ok(spent <= 6000 + 9 * 1.7 + 1.7, `spent ${spent} ms`);
  assert.ok(spent >= 5000, `the budget is used, not left idle: ${spent} ms`);
});

Deno.test("the cell cost is smoothed, and nonsense costs are ignored", () => {
  let s = chargeRefresh(initialBudget(), 2, 2);
  assert.equal(s.cellCostMs, 1);
  s = chargeRefresh(s, 1, 11);
  assert.ok(s.cellCostMs! > 1 && s.cellCostMs! < 11);
  assert.deepEqual(chargeRefresh(s, 0, 5), s);
  assert.deepEqual(chargeRefresh(s, 1, Number.NaN), s);
});
