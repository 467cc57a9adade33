/**
 * The policy's damping, cost and effect rules, pure: re-enables that wait
 * longer per quick flip, up to a cap, forgotten after a calm spell; the
 * minimum page-table size; the cap on replica memory; the no-gain rule.
 */
import assert from "node:assert/strict";
import {
  decide,
  decideAll,
  formatKb,
  type PolicyDecision,
  type PolicySample,
  type PolicyState,
  type PolicyThresholds,
} from "../src/core/policy.ts";
import {
  type DampingRecord,
  enableHold,
  FLIP_MEMORY_FACTOR,
  recordDisable,
} from "../src/core/damping.ts";
import { GAIN_WINDOW_MS } from "../src/core/gain.ts";
import { keyed } from "../src/core/types.ts";
import { policySample } from "./support/policy_sample.ts";

const THR: PolicyThresholds = {
  thrMar: 1e7,
  thrDtlb: 0.01,
  hysteresisMs: 1000,
  dampMaxMs: 60_000,
  minPteKb: 512,
  replicaCapKb: null,
};
const HI = { mar: 2e7, dtlb: 0.03 };
const LO = { mar: 5e6, dtlb: 0.03 };

/** A sample with 4 MiB of page tables, replicated to 4 nodes when on. */
function sample(
  signals: { mar: number | null; dtlb: number | null },
  extra: Partial<PolicySample> = {},
): PolicySample {
  return policySample(signals, { pteKb: 4096, replicaNodes: 4, ...extra });
}

/** A kernel that obeys: each tick reports replication as waspd last left it. */
class Run {
  state: PolicyState | undefined;
  last!: PolicyDecision;
  enables = 0;
  constructor(readonly thr: PolicyThresholds = THR) {}
  step(t: number, signals: { mar: number; dtlb: number }, extra: Partial<PolicySample> = {}) {
    this.last = decide(
      this.state,
      sample(signals, { replicated: this.state?.on ?? false, ...extra }),
      t,
      this.thr,
    );
    this.state = this.last.state;
    if (this.last.action === "enable") this.enables++;
    return this.last;
  }
}

Deno.test("each quick flip doubles the wait before the next enable", () => {
  const run = new Run();
  run.step(0, HI);
  assert.equal(run.step(1000, HI).action, "enable");
  run.step(2000, LO);
  assert.equal(run.step(3000, LO).action, "disable");
  // One flip: the next enable needs 2 s of signals above, not 1 s.
  run.step(4000, HI);
  const waiting = run.step(5000, HI);
  assert.deepEqual([waiting.action, waiting.status, waiting.countdownMs], ["none", "watch", 1000]);
  assert.equal(
    waiting.reason,
    "MAR 2e7 > 1e7 and dTLB 0.03 > 0.01 for 1.0 s (enable after 2.0 s; " +
      "re-enable held 2 s: 1 flip in 3 min)",
  );
  assert.deepEqual(waiting.damping, {
    flips: 1,
    holdMs: 2000,
    notBeforeInMs: null,
    damped: true,
    noGain: false,
  });
  assert.equal(run.step(6000, HI).action, "enable");
  run.step(7000, LO);
  run.step(8000, LO);
  // Two flips: 4 s.
  run.step(9000, HI);
  for (const t of [10_000, 11_000, 12_000]) assert.equal(run.step(t, HI).action, "none");
  assert.equal(run.step(13_000, HI).action, "enable");
});

Deno.test("the damped wait is capped, and flips are forgotten after a calm spell", () => {
  const settings = { hysteresisMs: 1000, dampMaxMs: 60_000 };
  let record: DampingRecord = { flips: [], noGainAtMs: null };
  for (let i = 0; i < 10; i++) record = recordDisable(record, i * 10, i * 10 - 5, false, settings);
  assert.equal(enableHold(record, 100, settings).holdMs, 60_000, "2^10 s capped at the 60 s max");
  // A long-lived enable that ends is a change, not a flap.
  const long = recordDisable(record, 500_000, 0, false, settings);
  assert.equal(long.flips.length, 10);
  // After the memory (3 x the cap) with no new flip, the wait is the plain hysteresis.
  const run = new Run();
  run.step(0, HI);
  run.step(1000, HI);
  run.step(2000, LO);
  run.step(3000, LO);
  assert.equal(run.state?.damping.flips.length, 1);
  const calm = FLIP_MEMORY_FACTOR * 60_000 + 3000;
  run.step(calm, HI);
  const after = run.step(calm + 1000, HI);
  assert.equal(after.action, "enable");
  assert.equal(after.damping, null);
});

Deno.test("no damping with --damp-max 0; pins and foreign replication ignore it", () => {
  const plain = new Run({ ...THR, dampMaxMs: 0 });
  for (let k = 0; k < 5; k++) {
    const t = k * 4000;
    plain.step(t, HI);
    plain.step(t + 1000, HI);
    plain.step(t + 2000, LO);
    plain.step(t + 3000, LO);
  }
  assert.equal(plain.enables, 5);
  const run = new Run();
  run.step(0, HI);
  run.step(1000, HI);
  run.step(2000, LO);
  run.step(3000, LO);
  const pinned = run.step(3500, HI, { pinned: "on" });
  assert.deepEqual([pinned.status, pinned.countdownMs], ["pinned-on", null]);
  assert.doesNotMatch(pinned.reason, /held/);
});

Deno.test("page tables below the minimum are never replicated, and the reason says so", () => {
  const run = new Run();
  for (let t = 0; t < 10_000; t += 1000) run.step(t, HI, { pteKb: 144 });
  assert.equal(run.enables, 0);
  assert.equal(run.last.status, "idle");
  assert.match(run.last.reason, /page tables 144 KiB < 512 KiB: too small to be worth replicating/);
  // Unknown size: the rule cannot judge, and does nothing.
  const unknown = new Run();
  unknown.step(0, HI, { pteKb: null });
  assert.equal(unknown.step(1000, HI, { pteKb: null }).action, "enable");
  assert.equal(formatKb(144), "144 KiB");
  assert.equal(formatKb(4112), "4.02 MiB");
  assert.equal(formatKb(3 * 1024 * 1024), "3 GiB");
});

Deno.test("replica memory: pte x (nodes - 1) per process; at the cap an enable waits", () => {
  const thr = { ...THR, replicaCapKb: 20_000 };
  const a = keyed({ pid: 1, startTime: 1 });
  const b = keyed({ pid: 2, startTime: 2 });
  const samples = (on: Set<number>) => [
    { ...sample(HI, { replicated: on.has(1) }), key: a, pteKb: 4096 },
    { ...sample(HI, { replicated: on.has(2) }), key: b, pteKb: 4096 },
  ];
  let round = decideAll(new Map(), samples(new Set()), 0, thr);
  round = decideAll(round.states, samples(new Set()), 1000, thr);
  // 4096 x 3 = 12 288 KiB each: the first fits under 20 000, the second would not.
  assert.deepEqual([...round.decisions.values()].map((d) => d.action), ["enable", "none"]);
  assert.equal(round.replicaKb, 12_288);
  const held = round.decisions.get("2@2")!;
  assert.equal(held.status, "watch");
  assert.match(
    held.reason,
    /^replica memory cap: enable waits, replicas would take 24 MiB > cap 19.5 MiB/,
  );
  round = decideAll(round.states, samples(new Set([1])), 2000, thr);
  assert.equal(round.decisions.get("1@1")!.replicaKb, 12_288);
  assert.equal(round.decisions.get("2@2")!.replicaKb, 0);
  assert.equal(round.decisions.get("2@2")!.action, "none");
  // Without a cap both go.
  let free = decideAll(new Map(), samples(new Set()), 0, THR);
  free = decideAll(free.states, samples(new Set()), 1000, THR);
  assert.deepEqual([...free.decisions.values()].map((d) => d.action), ["enable", "enable"]);
  assert.equal(free.replicaKb, 24_576);
});

Deno.test("no gain after the window: turned off, and kept off for the damping memory", () => {
  const run = new Run();
  const walk = (value: number) => ({ walkCyclesPerLoad: value });
  run.step(0, HI, walk(1.6));
  assert.equal(run.step(1000, HI, walk(1.6)).action, "enable");
  let t = 2000;
  for (; t < 1000 + GAIN_WINDOW_MS; t += 1000) {
    const d = run.step(t, HI, walk(1.58));
    assert.equal(d.action, "none", `still judging at ${t}`);
    assert.equal(d.walkBefore, 1.6);
  }
  const off = run.step(t, HI, walk(1.58));
  assert.equal(off.action, "disable");
  assert.equal(
    off.reason,
    "no gain from replication: walk cycles/load 1.6 before, 1.58 after 30.0 s",
  );
  // It stays off while signals stay above, for the whole memory (3 x 60 s).
  for (t += 1000; t < 1000 + GAIN_WINDOW_MS + 170_000; t += 1000) {
    assert.equal(run.step(t, HI, walk(1.6)).action, "none");
  }
  assert.match(run.last.reason, /re-enable held 3 min: no gain from replication 3 min ago\)$/);
  assert.equal(run.last.damping?.noGain, true);
});

Deno.test("a real gain keeps replication on; unknown walk cycles never trigger the rule", () => {
  const gains = new Run();
  gains.step(0, HI, { walkCyclesPerLoad: 1.6 });
  gains.step(1000, HI, { walkCyclesPerLoad: 1.6 });
  for (let t = 2000; t < 60_000; t += 1000) {
    assert.equal(gains.step(t, HI, { walkCyclesPerLoad: 0.96 }).action, "none");
  }
  assert.ok(Math.abs((gains.last.walkAfter ?? 0) - 0.96) < 1e-9, String(gains.last.walkAfter));
  const blind = new Run();
  blind.step(0, HI, { walkCyclesPerLoad: null });
  blind.step(1000, HI, { walkCyclesPerLoad: null });
  for (let t = 2000; t < 60_000; t += 1000) {
    assert.equal(blind.step(t, HI, { walkCyclesPerLoad: null }).action, "none");
  }
  assert.deepEqual([blind.last.walkBefore, blind.last.walkAfter], [null, null]);
  assert.equal(blind.last.status, "active");
});
