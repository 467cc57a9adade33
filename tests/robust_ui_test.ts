/**
 * +/- presses within one tick compound, and presses at a bound send nothing
 * (forty `+` at the maximum would otherwise be forty identical events).
 */
import assert from "node:assert/strict";
import { type Command, initialUiState, reduceKey, type UiState } from "../src/ui/state.ts";
import { absorbSnapshot } from "../src/ui/state.ts";
import { sampleSnapshot } from "./fixtures/snapshot_sample.ts";
import { defaultConfig } from "../src/options.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { SimHost } from "../src/sim/host.ts";

/** Press `keys` in order with the daemon's interval still `updateMs` (no snapshot between). */
function press(keys: ("+" | "-")[], updateMs: number, start: UiState = initialUiState()) {
  let ui = start;
  const commands: Command[] = [];
  for (const key of keys) {
    const out = reduceKey(ui, key, { processes: [], pageRows: 10, updateMs, nowMs: 1000 });
    ui = out.ui;
    if (out.command) commands.push(out.command);
  }
  return { ui, commands };
}

const intervals = (commands: Command[]) =>
  commands.map((c) => (c.kind === "setUpdateInterval" ? c.ms : NaN));

Deno.test("row 17: '-' three times within one tick compounds: 1000 -> 500 -> 250 -> 125 ms", () => {
  const { ui, commands } = press(["-", "-", "-"], 1000);
  assert.deepEqual(intervals(commands), [500, 250, 125]);
  assert.equal(ui.notice?.text, "requested: update interval 125 ms");
});

Deno.test("row 17: forty '+' presses send each new interval once, none at the bound", () => {
  const { ui, commands } = press(Array(40).fill("+"), 1000);
  assert.deepEqual(intervals(commands), [2000, 4000, 8000, 16000, 32000, 60000]);
  assert.equal(ui.notice?.text, "update interval already 60000 ms (the maximum)");
  const down = press(Array(10).fill("-"), 100);
  assert.deepEqual(down.commands, []);
  assert.equal(down.ui.notice?.text, "update interval already 100 ms (the minimum)");
});

Deno.test("row 17: a snapshot showing the interval ends the pending request", () => {
  const { ui } = press(["-"], 1000);
  const base = sampleSnapshot();
  const daemon = base.daemon!;
  // The daemon took it: the next press starts from what the daemon reports.
  const seen = absorbSnapshot(ui, { ...base, daemon: { ...daemon, update_ms: 500 } }, 1100);
  assert.equal(seen.pendingUpdate, null);
  assert.deepEqual(intervals(press(["-"], 500, seen).commands), [250]);
  // A snapshot from before the press still counts from the request.
  const old = absorbSnapshot(ui, { ...base, daemon: { ...daemon, update_ms: 1000 } }, 1100);
  assert.deepEqual(intervals(press(["-"], 1000, old).commands), [250]);
  // A request no snapshot ever confirms is forgotten after the notice time.
  const stale = absorbSnapshot(ui, { ...base, daemon: { ...daemon, update_ms: 1000 } }, 60_000);
  assert.equal(stale.pendingUpdate, null);
});

Deno.test("row 17: the daemon emits one event per interval change, none for a repeat", async () => {
  const host = new SimHost({ nodes: 2, manualClock: true });
  const daemon = await Daemon.open(host, { ...defaultConfig(), simNodes: 2 });
  try {
    daemon.events.takeNew();
    for (let i = 0; i < 40; i++) daemon.act({ kind: "setUpdateInterval", ms: 60_000 });
    daemon.act({ kind: "setUpdateInterval", ms: 500 });
    daemon.act({ kind: "setUpdateInterval", ms: 500 });
    const messages = daemon.events.takeNew().map((e) => e.message);
    assert.deepEqual(messages, ["update interval 60000 ms", "update interval 500 ms"]);
  } finally {
    await daemon.shutdown();
  }
});
