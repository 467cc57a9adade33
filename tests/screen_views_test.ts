/**
 * The operator's screen: the filter typed after `/`, REASON kept at 80
 * columns and moved under the selected row below, the detail view (Enter)
 * with its sparklines, the node view (`n`), the header in words, the
 * ADVISORY reason once and wrapped, the column help, unbound keys.
 */
import assert from "node:assert/strict";
import { frameText, renderFrame } from "../src/ui/render.ts";
import { decodeInput } from "../src/ui/keys.ts";
import {
  absorbSnapshot,
  initialUiState,
  type KeyContext,
  NOTICE_TTL_MS,
  reducePress,
  type UiState,
} from "../src/ui/state.ts";
import { displayedProcesses } from "../src/ui/render.ts";
import { COLUMN_HELP_LINES, HELP_LINES } from "../src/ui/render_footer.ts";
import { tableColumns } from "../src/ui/render_table.ts";
import { HISTORY_MS, ProcessHistory, SPARK_UNKNOWN, sparkline } from "../src/ui/history.ts";
import { cpuRanges } from "../src/ui/render_nodes.ts";
import { inheritWords, modeWords } from "../src/ui/render_header.ts";
import type { Snapshot } from "../src/core/snapshot.ts";
import { sampleEvent, sampleProcess, sampleSnapshot } from "./fixtures/snapshot_sample.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** Type `text` (raw terminal bytes) into the screen's reducer, as tui.ts does. */
function type(ui: UiState, s: Snapshot, text: string, nowMs = 0): UiState {
  for (const press of decodeInput(bytes(text))) {
    const ctx: KeyContext = {
      processes: displayedProcesses(s, ui),
      pageRows: 10,
      updateMs: 1000,
      nowMs,
    };
    ui = reducePress(ui, press, ctx).ui;
  }
  return ui;
}

function screen(
  s: Snapshot,
  ui: UiState,
  cols = 80,
  rows = 24,
  history?: ProcessHistory,
): string[] {
  return frameText(
    renderFrame(s, ui, { cols, rows }, {
      color: false,
      ...(history ? { history: (p) => history.of(p) } : {}),
    }),
  );
}

Deno.test("/ filters by name, pid or status as typed; the footer shows it; Esc clears it", () => {
  const s = sampleSnapshot();
  let ui = type(initialUiState(), s, "/work");
  assert.equal(ui.filterEditing, true);
  assert.equal(ui.filter, "work"); // "r" typed into the filter, not a remeasure
  ui = type(ui, s, "er-2");
  let lines = screen(s, ui);
  assert.match(lines[23]!, /^filter: worker-2_ +Enter keeps it, Esc clears it/);
  const rows = lines.filter((l) => /^[> ] +\d+ worker-/.test(l));
  assert.ok(rows.length > 0 && rows.every((l) => / worker-2\d /.test(l)), rows.join("\n"));
  // Enter keeps it and gives the keys back; the footer still says it.
  ui = type(ui, s, "\r");
  assert.equal(ui.filterEditing, false);
  lines = screen(s, ui);
  assert.match(lines[23]!, /^filter "worker-2" \(\/ edit, Esc clear\)/);
  // By pid and by status.
  assert.deepEqual(
    displayedProcesses(s, type(initialUiState(), s, "/1049\r")).map((p) => p.pid),
    [1049],
  );
  const stuck = displayedProcesses(s, type(initialUiState(), s, "/STUCK\r"));
  assert.ok(stuck.length > 0 && stuck.every((p) => p.status === "stuck"));
  // Backspace edits; a filter that matches nothing says so.
  ui = type(initialUiState(), s, "/zzz");
  assert.ok(screen(s, ui).some((l) => l.includes('no process matches "zzz"')));
  ui = type(ui, s, "\x7f\x7f\x7f");
  assert.equal(displayedProcesses(s, ui).length, s.processes.length);
  // Esc after Enter clears it.
  ui = type(initialUiState(), s, "/idle\r");
  assert.ok(displayedProcesses(s, ui).length < s.processes.length);
  ui = type(ui, s, "\x1b");
  assert.equal(ui.filter, "");
  assert.equal(displayedProcesses(s, ui).length, s.processes.length);
});

Deno.test("REASON stays at 80 columns, shortened; below 80 it is a line under the selected row", () => {
  const s = sampleSnapshot();
  assert.ok(tableColumns(80).some((c) => c.title === "REASON"));
  assert.ok(!tableColumns(79).some((c) => c.title === "REASON"));
  const wide = screen(s, initialUiState(), 80, 24);
  assert.ok(wide.some((l) => /^> +1203 worker-29 .* sample reason 29$/.test(l)));
  const narrow = screen(s, initialUiState(), 79, 24);
  const at = narrow.findIndex((l) => /^> +1203 worker-29 /.test(l));
  assert.ok(at > 0);
  assert.match(narrow[at + 1]!, /^ {3}why: sample reason 29 *$/);
  assert.equal(narrow.filter((l) => l.includes("why:")).length, 1);
  // Every frame is still exactly the terminal's size.
  assert.equal(narrow.length, 24);
  assert.match(narrow[23]!, /^q quit/);
});

Deno.test("RSS, THR and PTE columns appear as the width allows, each sortable", () => {
  const lines = screen(sampleSnapshot(), initialUiState(), 120, 30);
  assert.ok(
    lines.some((l) =>
      /^ +PID NAME +MAR +dTLB% +RSS +THR +PTE +MUX% +FLT\/s STATUS +FLIP REASON/.test(l)
    ),
  );
  const p = sampleProcess(29);
  assert.ok(
    lines.some((l) =>
      new RegExp(`^> +${p.pid} worker-29 .* 9\\.8M +${p.threads} +3\\.8M `).test(l)
    ),
  );
  const sorted = screen(sampleSnapshot(), type(initialUiState(), sampleSnapshot(), "sss"), 120, 30);
  assert.ok(sorted.some((l) => l.includes("sort: THR (s, i)")));
  const reversed = screen(
    sampleSnapshot(),
    type(initialUiState(), sampleSnapshot(), "ssssi"),
    120,
    30,
  );
  assert.ok(reversed.some((l) => l.includes("sort: PTE reversed (s, i)")));
});

Deno.test("Enter opens the detail view: sparklines, replication, pin, memory, its events; Esc returns", () => {
  const base = sampleSnapshot();
  const gups = sampleProcess(0, {
    name: "gups",
    status: "active",
    pinned: "on",
    replica_nodes: [0, 1, 2, 3],
    replica_mask: 15,
    replicated: true,
    pte_kb: 16_384,
    replica_kb: 49_152,
  });
  const history = new ProcessHistory();
  const t0 = Date.parse("2026-11-26T22:33:00.000Z");
  let s = base;
  for (let i = 0; i < 20; i++) {
    const mar = i < 10 ? 1e6 : 2e7; // quiet, then busy
    s = sampleSnapshot({
      time: new Date(t0 + i * 1000).toISOString(),
      processes: [{ ...gups, mar, dtlb_ratio: i === 5 ? null : 0.05 }],
    });
    history.record(s);
  }
  s = {
    ...s,
    events: [
      sampleEvent(1, { kind: "enable", pid: gups.pid, message: "replication on for gups" }),
      sampleEvent(2, { kind: "info", pid: 4242, message: "someone else" }),
    ],
  };
  let ui = absorbSnapshot(initialUiState(), s, 0);
  ui = type(ui, s, "\r");
  assert.equal(ui.view, "detail");
  const lines = screen(s, ui, 80, 24, history);
  const text = lines.join("\n");
  assert.match(text, /Process 1000 gups +active/);
  assert.match(text, /last 60 s, 20 samples/);
  // Ten quiet samples then ten at the top: a step in the sparkline.
  assert.match(text, /MAR\/s +20\.0M +_{10}#{10} +min 1\.0M +max 20\.0M/);
  assert.match(text, new RegExp(`walks/load +5\\.00% +[=#:_.,+*-]{5}\\${SPARK_UNKNOWN}`));
  assert.match(text, /replication +on, nodes 0,1,2,3 +mask 0xf/);
  assert.match(text, /steering +0->0 1->1 2->3\* 3->3/);
  assert.match(text, /pin +on/);
  assert.match(text, /memory +RSS .* page tables 16 MiB +replicas 48 MiB/);
  assert.match(text, /enable +replication on for gups/);
  assert.doesNotMatch(text, /someone else\n[\s\S]*Decisions/);
  assert.ok(lines.slice(0, 20).every((l) => !l.includes("someone else")));
  assert.equal(lines.length, 24);
  // Esc goes back to the table.
  ui = type(ui, s, "\x1b");
  assert.equal(ui.view, "table");
  assert.ok(screen(s, ui).some((l) => l.startsWith("Processes:")));
});

Deno.test("a full minute of history fits the row: the min and max stay whole at 80 columns", () => {
  const p = sampleProcess(0, { status: "active", mar: 4.8e7 });
  const history = new ProcessHistory();
  const t0 = Date.parse("2026-11-26T22:33:00.000Z");
  let s = sampleSnapshot();
  for (let i = 0; i < 120; i++) {
    s = sampleSnapshot({
      time: new Date(t0 + i * 500).toISOString(),
      processes: [{ ...p, mar: 4.67e7 + i * 1e4 }],
    });
    history.record(s);
  }
  const ui = type(absorbSnapshot(initialUiState(), s, 0), s, "\r");
  const row = screen(s, ui, 80, 24, history).find((l) => l.includes("MAR/s"))!;
  assert.match(row.trimEnd(), /min 46\.7M {2}max 47\.9M$/);
  assert.equal(row.length, 80);
});

Deno.test("the history keeps a minute, forgets exited processes, and unknowns are not bars", () => {
  const h = new ProcessHistory();
  const p = sampleProcess(3);
  const t0 = Date.parse("2026-11-26T22:00:00.000Z");
  for (let i = 0; i <= 90; i++) {
    h.record(sampleSnapshot({ time: new Date(t0 + i * 1000).toISOString(), processes: [p] }));
  }
  const points = h.of(p);
  assert.equal(points.length, HISTORY_MS / 1000 + 1);
  assert.equal(points[0]!.atMs, t0 + 30_000);
  h.record(sampleSnapshot({ time: new Date(t0 + 91_000).toISOString(), processes: [] }));
  assert.equal(h.of(p).length, 0);
  assert.equal(sparkline([0, 5, 10, null], 10), "_-#?");
  assert.equal(sparkline([1, 2, 3, 4], 2), "+#");
  assert.equal(sparkline([null, null], 5), "??");
});

Deno.test("n opens the node view: CPUs, memory total and free, distances, latency row", () => {
  const s = sampleSnapshot();
  let ui = type(initialUiState(), s, "n");
  assert.equal(ui.view, "nodes");
  const lines = screen(s, ui, 80, 24);
  const header = lines.find((l) => l.startsWith("NODE"));
  assert.ok(header !== undefined, lines.join("\n"));
  assert.match(header, /NODE CPUS +TOTAL +FREE +USED +DISTANCE +PTL ns to node 0 1 2 3/);
  const n2 = lines.find((l) => /^2 +4-5 /.test(l));
  assert.ok(n2 !== undefined);
  assert.match(n2, /^2 +4-5 +7\.63 GiB +5\.72 GiB +25% +16 +22 +10 +16 +140 +215 +97 +err *$/);
  assert.equal(cpuRanges([0, 1, 2, 3, 8, 10, 11]), "0-3,8,10-11");
  // Narrow and many nodes: the rows split, nothing past the edge.
  const wideRow = screen(s, ui, 60, 30);
  assert.ok(wideRow.some((l) => /^ +distance +10 +16 +16 +22/.test(l)));
  ui = type(ui, s, "n");
  assert.equal(ui.view, "table");
});

Deno.test("the header says the Mitosis mode and inherit in words, the raw value beside", () => {
  assert.equal(modeWords(-1), "per-process (-1)");
  assert.equal(modeWords(1), "auto (new processes) (1)");
  assert.equal(modeWords(7), "unknown (7)");
  assert.equal(inheritWords(-1), "off");
  assert.equal(inheritWords(1), "on");
  const base = sampleSnapshot();
  const s = sampleSnapshot({ mitosis: { ...base.mitosis!, mode: -1, inherit: -1 } });
  assert.match(screen(s, initialUiState())[1]!, /mode per-process \(-1\) {2}inherit off/);
});

Deno.test("the ADVISORY reason appears once, wrapped whole, and the start-up event points at it", () => {
  const base = sampleSnapshot();
  const reasons = [
    "not root (uid 1000): replication changes need root",
    "no Mitosis kernel: /proc/mitosis not found (this kernel is 6.8.0-generic, not a Mitosis build)",
  ];
  const s = sampleSnapshot({
    capabilities: {
      ...base.capabilities,
      mode: "advisory",
      advisory_reasons: reasons,
      mitosis: { ...base.capabilities.mitosis, present: false, reason: reasons[1]!.slice(19) },
    },
    mitosis: null,
    events: [sampleEvent(1, { message: `ADVISORY: nothing is written (${reasons.join("; ")})` })],
  });
  const ui = absorbSnapshot(initialUiState(), s, 0);
  const lines = screen(s, ui, 80, 24);
  const joined = lines.map((l) => l.trimEnd()).join(" ");
  for (const r of reasons) {
    assert.equal(joined.split(r).length - 1, 1, `once: ${r}\n${lines.join("\n")}`);
  }
  assert.ok(!lines.slice(0, 6).some((l) => l.trimEnd().endsWith("~")), "wrapped, not cut");
  assert.match(lines[1]!, /^Mitosis: not available \(why: see ADVISORY\)/);
  assert.ok(lines.some((l) => l.includes("ADVISORY: nothing is written (why: in the header)")));
});

Deno.test("the help explains every column the table can show; an unbound key says so for a while", () => {
  for (const c of tableColumns(400)) {
    assert.ok(COLUMN_HELP_LINES.some((l) => l.startsWith(c.title + " ")), c.title);
  }
  assert.ok(HELP_LINES.length + 2 <= 24, "the key page fits 80x24");
  assert.ok(COLUMN_HELP_LINES.length + 2 <= 24, "the column page fits 80x24");
  const s = sampleSnapshot();
  let ui = type(absorbSnapshot(initialUiState(), s, 0), s, "?");
  ui = type(ui, s, "?");
  assert.ok(screen(s, ui).some((l) => l.includes("FLIP    time left before the hysteresis")));
  ui = type(initialUiState(), s, "z", 1000);
  assert.match(screen(s, ui).join("\n"), /key 'z' does nothing here \(\? lists the keys\)/);
  // An event does not take it away (it answers no request); time does.
  const later = sampleSnapshot({ events: [sampleEvent(99)] });
  assert.notEqual(absorbSnapshot(ui, later, 1500).notice, null);
  assert.equal(absorbSnapshot(ui, later, 1000 + NOTICE_TTL_MS + 1).notice, null);
});
