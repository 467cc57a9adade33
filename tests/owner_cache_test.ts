import assert from "node:assert/strict";
import { OwnerCache } from "../src/sys/owner_cache.ts";

/** A stat function that counts its calls and answers `uid`. */
function counter(uid: number | null | "gone") {
  const f = () => {
    f.calls++;
    return uid;
  };
  f.calls = 0;
  return f;
}

Deno.test("an owner is read when a process is first seen, then remembered", () => {
  const cache = new OwnerCache(4);
  const stat = counter(1000);
  // pid 11: phase 11 % 4 = 3, so it is remembered for three scans, then read again.
  assert.equal(cache.owner(11, 500, stat), 1000);
  cache.endScan();
  for (let scan = 0; scan < 3; scan++) {
    assert.equal(cache.owner(11, 500, stat), 1000);
    cache.endScan();
  }
  assert.equal(stat.calls, 1, "remembered for the phase of its pid");
  cache.owner(11, 500, stat);
  cache.endScan();
  assert.equal(stat.calls, 2, "read again once the phase ran out");
  for (let scan = 0; scan < 3; scan++) {
    cache.owner(11, 500, stat);
    cache.endScan();
  }
  assert.equal(stat.calls, 2, "then remembered for a whole period");
});

Deno.test("a reused pid (another start time) is read again", () => {
  const cache = new OwnerCache(30);
  cache.owner(42, 100, counter(0));
  cache.endScan();
  const second = counter(1000);
  assert.equal(cache.owner(42, 900, second), 1000);
  assert.equal(second.calls, 1);
});

Deno.test("pids a scan did not see are forgotten, and gone is never remembered", () => {
  const cache = new OwnerCache(30);
  cache.owner(7, 1, counter(5));
  cache.endScan();
  cache.endScan(); // pid 7 not seen in this scan
  const again = counter(5);
  cache.owner(7, 1, again);
  assert.equal(again.calls, 1);
  const gone = counter("gone");
  assert.equal(cache.owner(8, 1, gone), "gone");
  cache.endScan();
  assert.equal(cache.owner(8, 1, gone), "gone");
  assert.equal(gone.calls, 2);
});
