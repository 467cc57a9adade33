/**
 * Helper run by tests/capabilities_test.ts under setpriv: open a software
 * counter (task-clock) on the pid given and print "OK" or "FAIL <errno>".
 * The permission check perf_event_open makes for a per-task counter is the
 * same whatever the event, so this stands for the hardware counters on a
 * machine without a PMU.
 */
import { libc } from "../../src/ffi/libc.ts";
import { encodeAttr } from "../../src/sys/perf/attr.ts";

const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_TASK_CLOCK = 1n;
const PERF_FLAG_FD_CLOEXEC = 8;

try {
  const attr = encodeAttr({ type: PERF_TYPE_SOFTWARE, config: PERF_COUNT_SW_TASK_CLOCK });
  libc().perfEventOpen(attr, Number(Deno.args[0]), -1, -1, PERF_FLAG_FD_CLOEXEC);
  console.log("OK");
} catch (error) {
  console.log(`FAIL ${(error as Error).message}`);
}
