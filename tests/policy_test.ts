import assert from "node:assert/strict";
import {
  classify,
  decide,
  decideAll,
  formatSignal,
  type PolicySample,
  type PolicyState,
  type PolicyThresholds,
} from "../src/core/policy.ts";
import { keyed } from "../src/core/types.ts";
import { KEY, policySample } from "./support/policy_sample.ts";

const THR: PolicyThresholds = { thrMar: 1e7, thrDtlb: 0.01, hysteresisMs: 1000 };
const HI = { mar: 2.1e7, dtlb: 0.034 };
const LO = { mar: 5e6, dtlb: 0.034 };
const UNKNOWN = { mar: null, dtlb: 0.5 };

const sample = policySample;

/**
 * Feed a sequence of (time, signals) through `decide`, carrying the state and
 * reporting the kernel's view as exactly what waspd did (a kernel that obeys).
 */
function run(
  steps: [number, { mar: number | null; dtlb: number | null }][],
  extra: Partial<PolicySample> = {},
) {
  let state: PolicyState | undefined;
  return steps.map(([t, signals]) => {
    const decision = decide(
      state,
      sample(signals, { replicated: state?.on ?? false, ...extra }),
      t,
      THR,
    );
    state = decision.state;
    return [t, decision.action, decision.status, decision.countdownMs] as const;
  });
}

Deno.test("classify: strictly above both; at a threshold is below; unknown stays unknown", () => {
  const table: [number | null, number | null, string][] = [
    [2e7, 0.02, "above"],
    [1e7, 0.02, "below"], // exactly at the MAR threshold: not above
    [2e7, 0.01, "below"], // exactly at the dTLB threshold
    [1e7 + 1, 0.010001, "above"],
    [5e6, 0.5, "below"],
    [null, 0.5, "unknown"],
    [2e7, null, "unknown"],
    [Number.NaN, 0.5, "unknown"],
  ];
  for (const [mar, dtlb, expected] of table) {
    assert.equal(classify(mar, dtlb, THR), expected, `${mar} ${dtlb}`);
  }
});

Deno.test("enable only after above held for the hysteresis; disable after below held as long", () => {
  assert.deepEqual(
    run([[0, HI], [500, HI], [999, HI], [1000, HI], [1500, LO], [2400, LO], [2500, LO], [
      3000,
      LO,
    ]]),
    [
      [0, "none", "watch", 1000],
      [500, "none", "watch", 500],
      [999, "none", "watch", 1],
      [1000, "enable", "active", null],
      [1500, "none", "candidate", 1000],
      [2400, "none", "candidate", 100],
      [2500, "disable", "idle", null],
      [3000, "none", "idle", null],
    ],
  );
});

Deno.test("flapping around the threshold never acts", () => {
  const steps: [number, typeof HI][] = [];
  for (let t = 0; t < 10_000; t += 400) steps.push([t, t % 800 === 0 ? HI : LO]);
  const decisions = run(steps);
  assert.ok(decisions.every(([, action]) => action === "none"));
  assert.deepEqual(new Set(decisions.map(([, , status]) => status)), new Set(["watch", "idle"]));
});

Deno.test("exactly at a threshold counts as below, forever", () => {
  const at = { mar: 1e7, dtlb: 0.5 };
  const decisions = run([[0, at], [1000, at], [5000, at]]);
  assert.deepEqual(decisions.map(([, action, status]) => [action, status]), [
    ["none", "idle"],
    ["none", "idle"],
    ["none", "idle"],
  ]);
});

Deno.test("unknown signals never flip and reset the pending timer", () => {
  // Off: above, a gap, above again: the wait restarts after the gap.
  assert.deepEqual(run([[0, HI], [900, UNKNOWN], [1000, HI], [1900, HI], [2000, HI]]), [
    [0, "none", "watch", 1000],
    [900, "none", "n/a", null],
    [1000, "none", "watch", 1000],
    [1900, "none", "watch", 100],
    [2000, "enable", "active", null],
  ]);
  // On: a long run of unknowns keeps replication on.
  const on = run([[0, HI], [1000, HI], [2000, UNKNOWN], [60_000, UNKNOWN]]);
  assert.deepEqual(on.slice(2).map(([, action, status]) => [action, status]), [
    ["none", "active"],
    ["none", "active"],
  ]);
});

Deno.test("reasons name the numbers and the held time", () => {
  const state = decide(undefined, sample(HI, { replicated: false }), 0, THR).state;
  const enable = decide(state, sample(HI, { replicated: false }), 1000, THR);
  assert.equal(enable.reason, "MAR 2.1e7 > 1e7 and dTLB 0.034 > 0.01 for 1.0 s");
  const below = decide(
    enable.state,
    sample({ mar: 2e7, dtlb: 0.01 }, { replicated: true }),
    1200,
    THR,
  );
  assert.equal(below.reason, "dTLB 0.01 <= 0.01 for 0.0 s (disable after 1.0 s)");
  const unknown = decide(undefined, sample(UNKNOWN), 0, THR);
  assert.equal(unknown.reason, "MAR unknown, dTLB 0.5: no decision");
  assert.equal(formatSignal(0.00012), "1.2e-4");
  assert.equal(formatSignal(123456), "1.23e5");
  assert.equal(formatSignal(1.04e7), "1.04e7", "not '1e7', which reads as equal to the threshold");
  assert.equal(formatSignal(1e7), "1e7");
  assert.equal(formatSignal(0.0345), "0.0345");
});

Deno.test("software signals: every reason says so and names the stand-ins; decisions unchanged", () => {
  const SW: PolicyThresholds = {
    thrMar: 5e8,
    thrDtlb: 1e-6,
    hysteresisMs: 1000,
    signals: "software",
  };
  const busy = { mar: 9.5e8, dtlb: 2e-6 };
  const state = decide(undefined, sample(busy, { replicated: false }), 0, SW).state;
  const enable = decide(state, sample(busy, { replicated: false }), 1000, SW);
  assert.equal(enable.action, "enable");
  assert.equal(
    enable.reason,
    "software stand-in: CPU ns/s 9.5e8 > 5e8 and faults/CPU ns 2e-6 > 1e-6 for 1.0 s",
  );
  // Every path of decide, not only the threshold ones, carries the prefix.
  const cases: [PolicySample, PolicyState | undefined][] = [
    [sample(busy, { pinned: "on" }), undefined],
    [sample(busy, { pinned: "off" }), undefined],
    [sample(busy, { stuck: true }), undefined],
    [sample(busy, { replicated: true, foreign: true }), undefined],
    [sample(UNKNOWN), undefined],
    [sample({ mar: 1e6, dtlb: 2e-6 }), undefined],
    [sample(busy, { advisory: true }), state],
    [sample(busy, { stopped: true, replicated: false }), state],
  ];
  for (const [s, prior] of cases) {
    const d = decide(prior, s, 1000, SW);
    assert.match(d.reason, /^software stand-in: /, d.reason);
    assert.doesNotMatch(d.reason, /MAR|dTLB/, d.reason);
    const hw = decide(prior, s, 1000, asHardware(SW));
    assert.equal(d.reason, `software stand-in: ${relabel(hw.reason)}`);
    assert.deepEqual({ ...d, reason: "" }, { ...hw, reason: "" }, "same decision either way");
  }
  // Hardware signals (the default) carry no label.
  assert.doesNotMatch(decide(undefined, sample(HI), 0, THR).reason, /software/);
});

/** The same thresholds read as hardware signals. */
function asHardware(thr: PolicyThresholds): PolicyThresholds {
  return { ...thr, signals: "hardware" };
}

/** A hardware reason with the software names. */
function relabel(reason: string): string {
  return reason.replaceAll("MAR", "CPU ns/s").replaceAll("dTLB", "faults/CPU ns");
}

Deno.test("pinned and stuck processes are left alone", () => {
  const watching = decide(undefined, sample(HI), 0, THR).state;
  const pinnedOff = decide(watching, sample(HI, { pinned: "off" }), 5000, THR);
  assert.deepEqual([pinnedOff.action, pinnedOff.status, pinnedOff.countdownMs], [
    "none",
    "pinned-off",
    null,
  ]);
  const pinnedOn = decide(undefined, sample(LO, { pinned: "on", replicated: true }), 0, THR);
  assert.deepEqual([pinnedOn.action, pinnedOn.status], ["none", "pinned-on"]);
  const stuck = decide(watching, sample(HI, { stuck: true }), 5000, THR);
  assert.deepEqual([stuck.action, stuck.status], ["none", "stuck"]);
  // Unpinned: the policy starts its wait from scratch.
  const after = decide(pinnedOff.state, sample(HI), 6000, THR);
  assert.deepEqual([after.action, after.countdownMs], ["none", 1000]);
});

Deno.test("a stopped process's enable waits, pending, and happens once it runs", () => {
  let d = decide(undefined, sample(HI, { stopped: true }), 0, THR);
  d = decide(d.state, sample(HI, { stopped: true }), 1000, THR);
  assert.deepEqual([d.action, d.status, d.countdownMs], ["none", "watch", 0]);
  assert.match(d.reason, /^stopped: enable waits until it runs/);
  d = decide(d.state, sample(HI, { stopped: true }), 5000, THR);
  assert.equal(d.action, "none");
  // Running again: no new wait, the enable goes out at once.
  d = decide(d.state, sample(HI), 5100, THR);
  assert.deepEqual([d.action, d.status], ["enable", "active"]);
});

Deno.test("replicated by someone else: never disabled, whatever the signals", () => {
  let d = decide(undefined, sample(LO, { replicated: true, foreign: true }), 0, THR);
  for (const t of [1000, 5000, 60_000]) {
    d = decide(d.state, sample(LO, { replicated: true, foreign: true }), t, THR);
    assert.deepEqual([d.action, d.status], ["none", "active"]);
  }
  assert.equal(d.reason, "replicated outside waspd: left alone");
  // Once it is waspd's own (foreign false), the policy may turn it off again.
  d = decide(d.state, sample(LO, { replicated: true }), 61_000, THR);
  d = decide(d.state, sample(LO, { replicated: true }), 62_000, THR);
  assert.equal(d.action, "disable");
});

Deno.test("advisory mode: the same decisions, reported as would-enable", () => {
  const decisions = run([[0, HI], [1000, HI], [1500, HI], [2000, LO], [3000, LO]], {
    advisory: true,
    replicated: false,
  });
  assert.deepEqual(decisions.map(([, action, status]) => [action, status]), [
    ["none", "watch"],
    ["enable", "would-enable"],
    ["none", "would-enable"],
    ["none", "candidate"],
    ["disable", "idle"],
  ]);
  let state = decide(undefined, sample(HI, { advisory: true, replicated: false }), 0, THR).state;
  state = decide(state, sample(HI, { advisory: true, replicated: false }), 1000, THR).state;
  assert.equal(state.on, true);
});

Deno.test("a failed enable (kernel still says off) is retried only after another full wait", () => {
  let state = decide(undefined, sample(HI, { replicated: false }), 0, THR).state;
  const enable = decide(state, sample(HI, { replicated: false }), 1000, THR);
  assert.equal(enable.action, "enable");
  state = enable.state;
  const next = decide(state, sample(HI, { replicated: false }), 1100, THR);
  assert.deepEqual([next.action, next.status, next.countdownMs], ["none", "watch", 1000]);
});

Deno.test("decideAll: a process that exits while on is dropped; pid reuse starts fresh", () => {
  const other = keyed({ pid: 7, startTime: 50 });
  let round = decideAll(new Map(), [sample(HI), { ...sample(HI), key: other }], 0, THR);
  round = decideAll(round.states, [sample(HI), { ...sample(HI), key: other }], 1000, THR);
  assert.deepEqual([...round.decisions.values()].map((d) => d.action), ["enable", "enable"]);
  // pid 42 exits while on; pid 7 stays.
  const afterExit = decideAll(
    round.states,
    [{ ...sample(HI, { replicated: true }), key: other }],
    2000,
    THR,
  );
  assert.deepEqual(afterExit.gone.map((s) => [s.key.pid, s.on]), [[42, true]]);
  assert.deepEqual([...afterExit.states.keys()], ["7@50"]);
  // pid 42 reused by a new process (new start time): a new state, waiting again.
  const reused = keyed({ pid: 42, startTime: 9999 });
  const fresh = decideAll(
    round.states,
    [{ ...sample(HI, { replicated: false }), key: reused }],
    2000,
    THR,
  );
  const decision = fresh.decisions.get("42@9999");
  assert.deepEqual([decision?.action, decision?.status, decision?.countdownMs], [
    "none",
    "watch",
    1000,
  ]);
  assert.deepEqual(fresh.gone.map((s) => s.key), [KEY, other]);
  // Even if handed the old state directly, a different start time is not the same process.
  const direct = decide(
    round.states.get("42@1000"),
    { ...sample(HI, { replicated: false }), key: reused },
    2000,
    THR,
  );
  assert.equal(direct.action, "none");
});
