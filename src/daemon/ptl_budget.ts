/**
 * The PTL refresh budget (pure: state in, state out, no clock of its own).
 *
 * A refresh is due every `intervalMs` (-i). Each one re-measures as many
 * cells as the CPU budget allows: credit accrues at `cpuFraction` ms per ms
 * of wall time (1 % of a core = 10 ms per second), a refresh spends what it
 * cost, and the cells are taken round-robin so every cell is refreshed in
 * turn. When not even one cell is affordable at the due time, the refresh
 * waits until it is: the refresh is then slower than -i, and says by how much.
 *
 * The first refresh takes every cell whatever it costs (steering needs a
 * whole matrix); its cost is charged like any other, so a costly start is
 * paid back before the next one.
 */
import type { BudgetReport } from "../core/types.ts";

export type { BudgetReport };

export interface BudgetConfig {
  /** Share of one core the refresh may use, e.g. 0.01. */
  cpuFraction: number;
  intervalMs: number;
}

export interface BudgetState {
  /** Spendable CPU ms (negative: a debt from a refresh that cost more than it had). */
  creditMs: number;
  /** When credit was last brought up to date; null before the first refresh. */
  atMs: number | null;
  /** Smoothed cost of refreshing one cell, ms; null until one was measured. */
  cellCostMs: number | null;
  /** Index of the next cell to refresh (round-robin). */
  cursor: number;
  /** Start of the last refresh, for the -i spacing. */
  lastStartMs: number | null;
}

export type RefreshPlan =
  | { kind: "wait"; untilMs: number }
  | { kind: "refresh"; cells: number[] };

export function initialBudget(): BudgetState {
  return { creditMs: 0, atMs: null, cellCostMs: null, cursor: 0, lastStartMs: null };
}

/**
 * A refresh is due this much before a whole interval has passed: polls come
 * once per tick, and a tick a millisecond early must not skip an interval.
 */
export const DUE_SLACK = 0.05;

/** Weight of the newest cost in the smoothed cell cost. */
const COST_WEIGHT = 0.3;

/** Credit never saved beyond one interval's worth (or one cell, if a cell costs more). */
function creditCap(config: BudgetConfig, cellCostMs: number | null): number {
  return Math.max(config.cpuFraction * config.intervalMs, cellCostMs ?? 0);
}

function accrue(state: BudgetState, config: BudgetConfig, nowMs: number): number {
  if (state.atMs === null) return creditCap(config, state.cellCostMs);
  const gained = config.cpuFraction * Math.max(0, nowMs - state.atMs);
  return Math.min(creditCap(config, state.cellCostMs), state.creditMs + gained);
}

/** When one cell becomes affordable, given the credit at `nowMs`. */
function affordableAt(credit: number, cellCostMs: number, config: BudgetConfig, nowMs: number) {
  return credit >= cellCostMs ? nowMs : nowMs + (cellCostMs - credit) / config.cpuFraction;
}

/**
 * What to do at `nowMs` for a matrix of `cellCount` cells: wait (until when),
 * or refresh these cell indices. The returned state has the credit brought
 * up to date and the cursor moved past the cells handed out.
 */
export function planRefresh(
  state: BudgetState,
  config: BudgetConfig,
  cellCount: number,
  nowMs: number,
): { plan: RefreshPlan; state: BudgetState } {
  const credit = accrue(state, config, nowMs);
  const updated = { ...state, creditMs: credit, atMs: nowMs };
  if (cellCount <= 0) return { plan: { kind: "wait", untilMs: nowMs + config.intervalMs }, state };
  const spacing = config.intervalMs * (1 - DUE_SLACK);
  if (state.lastStartMs !== null && nowMs - state.lastStartMs < spacing) {
    return { plan: { kind: "wait", untilMs: state.lastStartMs + spacing }, state };
  }
  let take: number;
  if (state.cellCostMs === null) take = cellCount;
  else {
    const at = affordableAt(credit, state.cellCostMs, config, nowMs);
    if (at > nowMs) return { plan: { kind: "wait", untilMs: at }, state };
    take = Math.min(cellCount, Math.max(1, Math.floor(credit / state.cellCostMs)));
  }
  const start = state.cursor % cellCount;
  const cells = Array.from({ length: take }, (_, k) => (start + k) % cellCount);
  return {
    plan: { kind: "refresh", cells },
    state: { ...updated, cursor: (start + take) % cellCount, lastStartMs: nowMs },
  };
}

/** Charge a finished refresh of `cells` cells that cost `costMs` of CPU. */
export function chargeRefresh(
  state: BudgetState,
  cells: number,
  costMs: number,
): BudgetState {
  if (cells <= 0 || !Number.isFinite(costMs) || costMs < 0) return state;
  const perCell = costMs / cells;
  const cellCostMs = state.cellCostMs === null
    ? perCell
    : state.cellCostMs + COST_WEIGHT * (perCell - state.cellCostMs);
  return { ...state, creditMs: state.creditMs - costMs, cellCostMs };
}

/** The steady state the budget allows: null until a cell's cost is known. */
export function budgetReport(
  state: BudgetState,
  config: BudgetConfig,
  cellCount: number,
): BudgetReport | null {
  if (state.cellCostMs === null || cellCount <= 0) return null;
  const perInterval = config.cpuFraction * config.intervalMs;
  const cost = Math.max(state.cellCostMs, Number.EPSILON);
  if (cost > perInterval) {
    const every = Math.max(config.intervalMs, cost / config.cpuFraction);
    return {
      cellCostMs: state.cellCostMs,
      cellsPerRefresh: 1,
      refreshEveryMs: every,
      matrixEveryMs: every * cellCount,
      slowed: true,
    };
  }
  const cellsPerRefresh = Math.min(cellCount, Math.floor(perInterval / cost));
  const matrixEveryMs = Math.ceil(cellCount / cellsPerRefresh) * config.intervalMs;
  return {
    cellCostMs: state.cellCostMs,
    cellsPerRefresh,
    refreshEveryMs: config.intervalMs,
    matrixEveryMs,
    slowed: matrixEveryMs > config.intervalMs,
  };
}
