import assert from "node:assert/strict";
import { frameText, layoutFor, renderFrame, rowAnsi } from "../src/ui/render.ts";
import { tierOf } from "../src/ui/render_ptl.ts";
import { tableColumns } from "../src/ui/render_table.ts";
import { rowText, WIDE_TAIL } from "../src/ui/render_frame.ts";
import { charWidth } from "../src/ui/sanitize.ts";
import { absorbSnapshot, initialUiState, type UiState } from "../src/ui/state.ts";
import type { Snapshot } from "../src/core/snapshot.ts";
import { capabilitiesJson } from "../src/core/capabilities.ts";
import { sampleProcess, sampleSnapshot } from "./fixtures/snapshot_sample.ts";

function render(s: Snapshot, cols: number, rows: number, ui?: Partial<UiState>, color = false) {
  const state = { ...absorbSnapshot(initialUiState(), s, 0), ...ui };
  return renderFrame(s, state, { cols, rows }, { color });
}

// CSI ... final byte, OSC ... BEL/ST, and two-byte ESC sequences.
// deno-lint-ignore no-control-regex
const ANSI_PATTERN = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Remove escape sequences: the text a user would read (only this test needs it). */
function stripAnsi(s: string): string {
  return s.replace(ANSI_PATTERN, "");
}

function lineWith(lines: string[], needle: string): string {
  const line = lines.find((l) => l.includes(needle));
  assert.ok(line !== undefined, `no line contains ${JSON.stringify(needle)}:\n${lines.join("\n")}`);
  return line;
}

Deno.test("80x24: every row exactly 80 columns, 24 rows", () => {
  const frame = render(sampleSnapshot(), 80, 24);
  assert.equal(frame.rows.length, 24);
  for (const row of frame.rows) assert.equal(row.length, 80);
});

Deno.test("80x24: header, matrix, steering, table, events and keys", () => {
  const lines = frameText(render(sampleSnapshot(), 80, 24));
  assert.match(
    lines[0]!,
    /^waspd \[SIMULATED\] \[ADVISORY\] {2}4 nodes {2}2450 MHz {2}hyst 2\.0s {2}upd 1\.0s +22:33:05$/,
  );
  assert.equal(
    lines[1]!.trimEnd(),
    "Mitosis: wasp-6.4  mode per-process (-1)  inherit on",
  );
  assert.equal(lines[2]!.trimEnd(), "Counters: unavailable - perf_event_open: ENOENT");
  assert.equal(
    lines[3]!.trimEnd(),
    "ADVISORY nothing is written to the kernel: no hardware counters",
  );
  assert.equal(lines[4]!.trimEnd(), "PTL latency (ns)  took 412ms, 3.2s ago");
  assert.equal(lines[5]!.trimEnd(), "cpu\\mem         0      1      2      3");
  assert.equal(lines[8]!.trimEnd(), "node 2        140    215     97    err");
  assert.equal(lines[10]!.trimEnd(), "steering: 0->0 1->1 2->3* 3->3   (* = remote replica)");
  assert.equal(
    lines[11]!.trimEnd(),
    "Processes: 4 replicated, 30 tracked   sort: MAR (s, i)   1-8 of 30",
  );
  // At 80 columns REASON stays, shortened; MUX%, FLT/s, THR and PTE make room for it.
  assert.match(lines[12]!, /^ +PID NAME +MAR +dTLB% +RSS STATUS +FLIP REASON +$/);
  // Highest MAR first, selected, with its countdown and its reason.
  assert.match(
    lines[13]!,
    /^> +1203 worker-29 +90\.0M +2\.30 +9\.8M candidate +0\.4s sample reason 29$/,
  );
  assert.match(lines[15]!, /^ +1189 worker-27 +78\.4M +4\.90 +29M ACTIVE +sample reason 27$/);
  assert.equal(lines[21]!.trimEnd(), "22:32:02 decision [1000] would enable replication");
  assert.equal(lines[22]!.trimEnd(), "22:33:03 error    cache write failed: EINVAL");
  assert.match(lines[23]!, /^q quit r remeasure c cache d drain m mode \/ filter e\/x pin s sort/);
});

Deno.test("unknown counters show '-', never 0", () => {
  const s = sampleSnapshot({ processes: [sampleProcess(7)] }); // status n/a, counters null
  const line = lineWith(frameText(render(s, 80, 24)), "worker-07");
  assert.match(line, /^> +1049 worker-07 +- +- +\S+ +n\/a +sample reason 7 *$/);
  const wide = lineWith(frameText(render(s, 120, 40)), "worker-07");
  assert.match(wide, /^> +1049 worker-07 +- +- +\S+ +\d +\S+ +- +- +n\/a /);
  assert.ok(!/\b0\b/.test(line.replace("worker-07", "")));
});

Deno.test("every status has its label", () => {
  const lines = frameText(render(sampleSnapshot(), 120, 40, { sort: "pid" }));
  for (
    const label of [
      "ACTIVE",
      "watch",
      "candidate",
      "would-enable",
      "pinned on",
      "pinned off",
      "STUCK",
      "n/a",
      "idle",
    ]
  ) {
    lineWith(lines, ` ${label} `);
  }
});

Deno.test("120x40: wider table with a REASON column, more rows and events", () => {
  const frame = render(sampleSnapshot(), 120, 40);
  const lines = frameText(frame);
  assert.equal(lines.length, 40);
  assert.match(lines[0]!, /upd 1\.0s {2}replicas 0 KiB {2}simbox +22:33:05$/);
  assert.match(lines[1]!.trimEnd(), /cache 100\/100\/100\/100 pg \(1600 KB\) {2}replication ON$/);
  assert.match(lines[12]!, / RSS +THR +PTE +MUX% +FLT\/s STATUS +FLIP REASON +$/);
  assert.match(lines[13]!, /^> +1203 worker-29 .* candidate +0\.4s sample reason 29 +$/);
  assert.match(lines[11]!.trimEnd(), /1-20 of 30$/);
  lineWith(lines, "22:31:01 probe    PTL matrix measured in 412 ms");
  assert.match(lines[39]!, /\? help +$/);
});

Deno.test("too small: a centred message and nothing else", () => {
  const lines = frameText(render(sampleSnapshot(), 59, 30));
  assert.equal(lines.length, 30);
  const text = lines.map((l) => l.trim()).filter((l) => l !== "");
  assert.deepEqual(text, ["terminal too small (need 60x15, have 59x30) - q quits"]);
  const tiny = frameText(render(sampleSnapshot(), 30, 10)).map((l) => l.trim()).filter(Boolean);
  assert.equal(tiny.join(" "), "terminal too small (need 60x15, have 30x10) - q quits");
  for (const l of frameText(render(sampleSnapshot(), 30, 10))) assert.equal(l.length, 30);
  assert.equal(layoutFor(sampleSnapshot(), { cols: 60, rows: 14 }).tooSmall, true);
  assert.equal(layoutFor(sampleSnapshot(), { cols: 60, rows: 15 }).tooSmall, false);
});

Deno.test("60x15 minimum: the matrix folds away, the table keeps rows", () => {
  const lines = frameText(render(sampleSnapshot(), 60, 15));
  assert.equal(lines.length, 15);
  assert.ok(!lines.some((l) => l.startsWith("node 0")));
  // The ADVISORY reason wraps rather than being cut.
  assert.equal(lines[3]!.trimEnd(), "ADVISORY nothing is written to the kernel: no hardware");
  assert.equal(lines[4]!.trimEnd(), "counters");
  assert.equal(
    lines[5]!.trimEnd(),
    "PTL latency (ns)  took 412ms, 3.2s ago  [matrix hidden]",
  );
  lineWith(lines, "steering: 0->0 1->1 2->3*");
  assert.ok(lines.filter((l) => /worker-\d\d/.test(l)).length >= 3);
  assert.match(lines[14]!, /^q quit/);
});

Deno.test("NO_COLOR: no escape byte anywhere, same text as in colour", () => {
  const plain = render(sampleSnapshot(), 80, 24, {}, false);
  const colored = render(sampleSnapshot(), 80, 24, {}, true);
  for (const row of plain.rows) assert.ok(!rowAnsi(row).includes("\x1b"));
  assert.ok(colored.rows.some((row) => rowAnsi(row).includes("\x1b[")));
  assert.deepEqual(colored.rows.map((r) => stripAnsi(rowAnsi(r))), frameText(plain));
});

Deno.test("colour: tiers on matrix cells, remote steering, selection in reverse video", () => {
  const frame = render(sampleSnapshot(), 80, 24, {}, true);
  const node0 = frame.rows[6]!; // node 0: 95 local, 140 near, 210 far
  const styleAt = (row: typeof node0, text: string) => {
    const at = frame.rows.indexOf(row);
    const col = frameText(frame)[at]!.indexOf(text);
    return row[col]!.style;
  };
  assert.equal(styleAt(node0, "95"), "32");
  assert.equal(styleAt(node0, "140"), "33");
  assert.equal(styleAt(node0, "210"), "31");
  assert.equal(styleAt(frame.rows[8]!, "err"), "1;31");
  assert.equal(styleAt(frame.rows[10]!, "2->3*"), "1;35");
  assert.equal(frame.rows[13]![0]!.style, "7");
  assert.ok(rowAnsi(frame.rows[13]!).startsWith("\x1b[0;7m>"));
});

Deno.test("tiers come from the SLIT, or from latencies without one", () => {
  const s = sampleSnapshot();
  assert.equal(tierOf(1, 1, s.host.nodes, s.ptl), "local");
  assert.equal(tierOf(0, 1, s.host.nodes, s.ptl), "near");
  assert.equal(tierOf(0, 3, s.host.nodes, s.ptl), "far");
  const noSlit = s.host.nodes.map((n) => ({ ...n, distances: [] }));
  assert.equal(tierOf(0, 1, noSlit, s.ptl), "near"); // 140 <= 1.5 * 95
  assert.equal(tierOf(0, 3, noSlit, s.ptl), "far"); // 210 > 1.5 * 95
  assert.equal(tierOf(2, 3, noSlit, s.ptl), null); // failed cell
  assert.equal(tierOf(0, 3, noSlit, null), null);
});

Deno.test("a hostile process name cannot reach the terminal as an escape", () => {
  const s = sampleSnapshot({
    processes: [sampleProcess(0, { name: "\x1b[2J\x1b[H\u202epwn" })],
    events: [{
      seq: 9,
      time: "2026-11-26T22:33:05Z",
      kind: "info",
      pid: 1,
      message: "\x1b]0;title\x07",
    }],
  });
  for (const color of [false, true]) {
    const frame = render(s, 120, 40, {}, color);
    const ansi = frame.rows.map(rowAnsi).join("\n");
    assert.ok(!ansi.includes("\x1b[2J") && !ansi.includes("\x1b[H") && !ansi.includes("\x1b]"));
    assert.ok(!ansi.includes("\u202e") && !ansi.includes("\x07"));
    const lines = frameText(frame);
    lineWith(lines, "\\x1b[2J\\x1b[H\\u{202e}pwn");
    lineWith(lines, "\\x1b]0;title\\x07");
  }
});

Deno.test("scrolling shows the selected row and the range in the title", () => {
  const lines = frameText(render(sampleSnapshot(), 80, 24, { selectedIndex: 20, scroll: 12 }));
  assert.match(lines[11]!.trimEnd(), /14-21 of 30$/);
  assert.match(lines[20]!, /^> /);
  assert.equal(lines.filter((l) => l.startsWith(">")).length, 1);
});

Deno.test("help overlay, pause marker, notice line", () => {
  const help = frameText(render(sampleSnapshot(), 80, 24, { helpShown: true }));
  lineWith(help, "| waspd keys");
  lineWith(help, "| e / x       pin the selected process on / off");
  const paused = frameText(render(sampleSnapshot(), 80, 24, { paused: true }));
  assert.match(paused[0]!, /^waspd \[SIMULATED\] \[ADVISORY\] \[PAUSED\]/);
  const noticed = frameText(
    render(sampleSnapshot(), 80, 24, { notice: { text: "requested: PTL re-measure", atMs: 0 } }),
  );
  assert.equal(noticed[21]!.trimEnd(), "requested: PTL re-measure");
});

Deno.test("the header shows what the replicas take, against the cap when there is one", () => {
  const base = sampleSnapshot();
  const s = sampleSnapshot({
    daemon: { ...base.daemon!, replica_kb_total: 49_200, replica_cap_kb: 1024 * 1024 },
  });
  assert.match(
    frameText(render(s, 120, 40))[0]!,
    /upd 1\.0s {2}replicas 48 MiB\/1 GiB {2}simbox/,
  );
  const uncapped = sampleSnapshot({ daemon: { ...base.daemon!, replica_kb_total: 700 } });
  assert.match(frameText(render(uncapped, 120, 40))[0]!, /replicas 700 KiB {2}simbox/);
});

Deno.test("enforcing mode without Mitosis: no ADVISORY, the reason is shown", () => {
  const base = sampleSnapshot();
  const s = sampleSnapshot({
    simulated: false,
    capabilities: {
      ...base.capabilities,
      mode: "enforcing",
      advisory_reasons: [],
      mitosis: { present: false, variant: null, files: [], reason: "prctl 100: EINVAL" },
    },
    mitosis: null,
    ptl: null,
    steering: null,
    daemon: null,
    events: [],
  });
  const lines = frameText(render(s, 80, 24));
  assert.match(
    lines[0]!,
    /^waspd {2}4 nodes {2}2450 MHz {2}hyst - {2}upd - {2}replicas - {2}simbox +22:33:05$/,
  );
  assert.equal(lines[1]!.trimEnd(), "Mitosis: not available - prctl 100: EINVAL");
  assert.match(lines[2]!.trimEnd(), /^Counters: unavailable - /);
  assert.equal(lines[3]!.trimEnd(), "PTL latency (ns)  not measured yet");
  assert.equal(lines[4]!.trimEnd(), "steering: -");
  assert.match(lines[5]!, /^Processes: 11 replicated, 30 tracked/);
  lineWith(lines, "no events yet");
  assert.ok(!lines.some((l) => l.includes("ADVISORY")));
});

Deno.test("ragged or odd snapshot data renders as unknowns, never a crash", () => {
  const base = sampleSnapshot();
  const s = sampleSnapshot({
    time: "not a time",
    host: { ...base.host, nodes: [], cpu: { ...base.host.cpu, mhz: null } },
    ptl: { ...base.ptl!, latency_ns: [[95]], errors: [], spread: [] },
    steering: { choices: [], array: [] },
    processes: [
      sampleProcess(1, {
        rss_kb: Number.NaN,
        mar: Number.POSITIVE_INFINITY,
        dtlb_ratio: Number.NaN,
      }),
      sampleProcess(2, { countdown_ms: -50, name: "" }),
    ],
  });
  const lines = frameText(render(s, 80, 24));
  assert.match(lines[0]!, /0 nodes {2}- MHz .* \?\?:\?\?:\?\?$/);
  assert.equal(lines[6]!.trimEnd(), "node 0         95      -      -      -");
  lineWith(lines, "steering: -");
  assert.match(lineWith(lines, "worker-01"), /worker-01 +- +- /);
  assert.match(lineWith(lines, " 1014 "), / 0\.0s sample reason 2 *$/);
});

Deno.test("the counters line names the event source and the fd budget in use", () => {
  const base = sampleSnapshot();
  const s = sampleSnapshot({
    capabilities: {
      ...base.capabilities,
      perf: {
        hardware: true,
        available: true,
        signals: "hardware",
        signals_note: null,
        source: "intel-icx-raw",
        reason: null,
        paranoid: -1,
        fd_budget: 4096,
        fd_used: 24,
      },
    },
  });
  const lines = frameText(render(s, 80, 24));
  const line = lineWith(lines, "Counters:");
  assert.equal(line.trimEnd(), "Counters: intel-icx-raw  fds 24/4096  paranoid -1");
  assert.ok(!lines.some((l) => l.includes("SOFTWARE")), "no software tag on hardware signals");
});

/** The sample snapshot as waspd --signals software shows it (capabilitiesJson's own output). */
function softwareSnapshot(available: boolean): Snapshot {
  const base = sampleSnapshot();
  const perf = capabilitiesJson(
    { root: true, uid: 0 },
    {
      available,
      signals: "software",
      source: available ? "software (task-clock as loads, page-faults as walks)" : null,
      reason: available ? null : "perf_event_open: EACCES",
      paranoid: 2,
      fdBudget: 512,
      fdUsed: 8,
    },
    { present: true, variant: "wasp-6.4", files: [], reason: null },
  ).perf;
  return sampleSnapshot({ capabilities: { ...base.capabilities, perf } });
}

Deno.test("software signals: a tag on the first row and a counters line that says not memory", () => {
  for (const cols of [60, 80, 120]) {
    const lines = frameText(render(softwareSnapshot(true), cols, 24));
    assert.match(lines[0]!, /^waspd \[SIMULATED\] \[SOFTWARE SIGNALS\] \[ADVISORY\]/);
    assert.match(
      lineWith(lines, "Counters:"),
      /^Counters: software stand-in - not memory signals/,
    );
  }
  const wide = frameText(render(softwareSnapshot(true), 200, 24));
  assert.match(lineWith(wide, "Counters:"), /MAR is task-clock in CPU ns per second/);
  const colored = render(softwareSnapshot(true), 80, 24, undefined, true);
  // Styled like [ADVISORY]: an escape sequence right before the tag.
  assert.ok(rowAnsi(colored.rows[0]!).includes("m[SOFTWARE SIGNALS]"));
  // Software events that cannot be opened are "unavailable", still tagged as asked for.
  const none = frameText(render(softwareSnapshot(false), 80, 24));
  assert.match(none[0]!, /\[SOFTWARE SIGNALS\]/);
  assert.match(
    lineWith(none, "Counters:"),
    /software events unavailable - perf_event_open: EACCES/,
  );
});

Deno.test("CJK names at their width: the columns after NAME do not move", () => {
  const names = ["漢字処理", "データ", "데이터베이스", "ab漢字cd漢字ef漢字gh漢字ij漢字"];
  const ascii = sampleSnapshot();
  const cjk = sampleSnapshot({
    processes: ascii.processes.map((p, i) => ({ ...p, name: names[i % names.length]! })),
  });
  for (const cols of [60, 80, 120]) {
    const a = render(ascii, cols, 24);
    const c = render(cjk, cols, 24);
    const nameWidth = tableColumns(cols).find((col) => col.title === "NAME")!.width;
    const nameEnd = 1 + 1 + 7 + 1 + nameWidth; // marker, space, PID, space, NAME
    for (let r = 13; r < 20; r++) {
      const row = c.rows[r]!;
      assert.equal(row.length, cols);
      // What the terminal draws (a wide character: two columns, its tail none) fills the row.
      const drawn = row.reduce(
        (n, cell) => n + (cell.ch === WIDE_TAIL ? 0 : charWidth(cell.ch)),
        0,
      );
      assert.equal(drawn, cols);
      assert.equal(rowText(row.slice(nameEnd)), rowText(a.rows[r]!.slice(nameEnd)), `row ${r}`);
    }
    const text = frameText(c);
    lineWith(text, " 漢字処理 ");
    assert.ok(!text.some((l) => l.includes("\\u{")), "no CJK escaped");
  }
  // The long name is cut at a column boundary and marked.
  const long = frameText(render(cjk, 80, 24, { sort: "pid" }));
  assert.ok(long.some((l) => /ab漢字cd漢字.*~/.test(l)));
});
