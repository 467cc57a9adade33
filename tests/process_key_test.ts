import assert from "node:assert/strict";
import { keyed, processKeyString, sameProcess } from "../src/core/types.ts";
import { parseStat, toProcessInfo } from "../src/sys/proc_stat.ts";
import { processInfoAt } from "../src/sim/workload_model.ts";
import { defaultScenario, SIM_PIDS } from "../src/sim/workloads.ts";

Deno.test("processKeyString: pid@start time, a new text for a reused pid", () => {
  assert.equal(processKeyString({ pid: 41, startTime: 900 }), "41@900");
  assert.equal(processKeyString({ pid: 41, startTime: 901 }), "41@901", "pid reused");
  assert.deepEqual(keyed({ pid: 41, startTime: 900 }), { pid: 41, startTime: 900, id: "41@900" });
  assert.equal(sameProcess({ pid: 41, startTime: 900 }, keyed({ pid: 41, startTime: 900 })), true);
  assert.equal(sameProcess({ pid: 41, startTime: 900 }, { pid: 41, startTime: 901 }), false);
});

Deno.test("a process read from /proc or the simulator carries its key text from the read", () => {
  const stat = parseStat("5 (n) S 1 7 7 0 -1 4194304 11 0 12 0 1 2 0 0 20 0 3 0 9876 4096 7");
  assert.ok(stat);
  assert.equal(toProcessInfo(stat, 0).id, "5@9876");
  const stream = defaultScenario().find((w) => w.pid === SIM_PIDS.stream)!;
  const info = processInfoAt(stream, stream.startMs + 1000);
  assert.equal(info.id, `${stream.pid}@${stream.startTime}`);
});
