/**
 * The standalone binary runs with the same V8 heap flags as `deno task run`,
 * the settings the daemon's cost (bench/daemon_cost_bench.ts) is measured at.
 */
import assert from "node:assert/strict";
import { runTaskV8Flags } from "../tools/compile.ts";
import denoJson from "../deno.json" with { type: "json" };

Deno.test("deno task compile bakes in the run task's --v8-flags", () => {
  const flags = runTaskV8Flags();
  assert.ok(flags.length > 0, "the run task sets V8 flags");
  for (const flag of flags) assert.ok(denoJson.tasks.run.includes(flag), flag);
  assert.deepEqual(flags, ["--v8-flags=--max-semi-space-size=2,--max-old-space-size=1024"]);
});
