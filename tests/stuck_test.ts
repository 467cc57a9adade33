/** The pure recovery logic: backoff and eligibility of a stuck process, and late-call reconciling. */
import assert from "node:assert/strict";
import {
  backoffMs,
  markStuck,
  RETRY_BASE_MS,
  RETRY_MAX_MS,
  retryVerdict,
} from "../src/core/stuck.ts";
import { reconcileLate } from "../src/core/reconcile.ts";

Deno.test("backoff doubles per overrun in a row, up to its cap", () => {
  assert.deepEqual([1, 2, 3, 4].map(backoffMs), [
    RETRY_BASE_MS,
    2 * RETRY_BASE_MS,
    4 * RETRY_BASE_MS,
    8 * RETRY_BASE_MS,
  ]);
  assert.equal(backoffMs(40), RETRY_MAX_MS);
  assert.equal(backoffMs(0), RETRY_BASE_MS);
});

Deno.test("markStuck counts overruns, keeps the first time, sets the next try", () => {
  const first = markStuck(undefined, "enable", 1000);
  assert.deepEqual(first, {
    what: "enable",
    attempts: 1,
    sinceMs: 1000,
    retryAtMs: 1000 + RETRY_BASE_MS,
    pending: true,
  });
  const second = markStuck({ ...first, pending: false }, "enable", 9000);
  assert.deepEqual(second, {
    what: "enable",
    attempts: 2,
    sinceMs: 1000,
    retryAtMs: 9000 + 2 * RETRY_BASE_MS,
    pending: true,
  });
});

Deno.test("a stuck process is due once it runs and its pause is over, not before", () => {
  const entry = markStuck(undefined, "enable", 0);
  assert.deepEqual(retryVerdict(entry, RETRY_BASE_MS, "T"), {
    due: false,
    why: "stopped (state T): tried again once it runs",
  });
  assert.deepEqual(retryVerdict(entry, RETRY_BASE_MS, "t").due, false);
  assert.deepEqual(retryVerdict(entry, RETRY_BASE_MS, null), { due: false, why: "not seen" });
  assert.deepEqual(retryVerdict(entry, RETRY_BASE_MS - 1500, "R"), {
    due: false,
    why: "tried again in 2 s",
  });
  assert.deepEqual(retryVerdict(entry, RETRY_BASE_MS, "R"), { due: true });
  assert.deepEqual(retryVerdict(entry, RETRY_BASE_MS + 1, "S"), { due: true });
});

Deno.test("late enable: the kernel's list decides who owns it", () => {
  const on = reconcileLate({ what: "enable", answer: { ok: true }, replicated: true }, "pid 7 (a)");
  assert.equal(on.owned, true);
  assert.equal(on.kind, "enable");
  assert.match(on.message, /late enable of pid 7 \(a\): it returned 0; .*waspd owns it/);
  // The answer was lost with its helper, but the kernel shows it on: still ours.
  const lost = reconcileLate({ what: "enable", answer: null, replicated: true }, "p");
  assert.equal(lost.owned, true);
  assert.match(lost.message, /answer was lost/);
  const failed = reconcileLate(
    { what: "enable", answer: { ok: false, errno: "ESRCH" }, replicated: false },
    "p",
  );
  assert.equal(failed.owned, false);
  assert.match(failed.message, /returned ESRCH; .*nothing to undo/);
  // Unreadable list: only a definite answer changes anything.
  assert.equal(
    reconcileLate({ what: "enable", answer: { ok: true }, replicated: null }, "p").owned,
    true,
  );
  assert.equal(reconcileLate({ what: "enable", answer: null, replicated: null }, "p").owned, null);
});

Deno.test("late disable: off is off; still listed keeps ownership as it was", () => {
  const off = reconcileLate({ what: "disable", answer: { ok: true }, replicated: false }, "p");
  assert.deepEqual([off.owned, off.kind], [false, "disable"]);
  const still = reconcileLate({ what: "disable", answer: { ok: true }, replicated: true }, "p");
  assert.deepEqual([still.owned, still.kind], [null, "error"]);
});
