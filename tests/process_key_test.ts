import assert from "node:assert/strict";
import { processKeyString } from "../src/core/types.ts";

Deno.test("processKeyString: the same text for the same process, a new one for a reused pid", () => {
  assert.equal(processKeyString({ pid: 41, startTime: 900 }), "41@900");
  assert.equal(processKeyString({ pid: 41, startTime: 900 }), "41@900", "remembered");
  assert.equal(processKeyString({ pid: 41, startTime: 901 }), "41@901", "pid reused");
  assert.equal(processKeyString({ pid: 41, startTime: 900 }), "41@900", "and back");
});

Deno.test("processKeyString: stays right past the memo's bound (it starts over)", () => {
  for (let pid = 1; pid <= 70_000; pid++) {
    assert.equal(processKeyString({ pid, startTime: pid * 3 }), `${pid}@${pid * 3}`);
  }
  for (const pid of [1, 32_768, 32_769, 70_000]) {
    assert.equal(processKeyString({ pid, startTime: pid * 3 }), `${pid}@${pid * 3}`);
    assert.equal(processKeyString({ pid, startTime: 5 }), `${pid}@5`);
  }
});
