import assert from "node:assert/strict";
import { decodeInput, decodeKeys } from "../src/ui/keys.ts";
import { bindingKeys, BINDINGS, keyLabel, printableKeys } from "../src/ui/bindings.ts";
import { HELP_LINES, KEY_LINES } from "../src/ui/render_footer.ts";
import {
  absorbSnapshot,
  EVENT_RING_SIZE,
  initialUiState,
  type KeyContext,
  reduceKey,
  sortProcesses,
  type UiState,
} from "../src/ui/state.ts";
import { sampleEvent, sampleProcess, sampleSnapshot } from "./fixtures/snapshot_sample.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("letters and symbols decode to key names, upper case too", () => {
  assert.deepEqual(decodeKeys(bytes("qrcdm?hexus+-p")), [
    "q",
    "r",
    "c",
    "d",
    "m",
    "?",
    "h",
    "e",
    "x",
    "u",
    "s",
    "+",
    "-",
    "p",
  ]);
  assert.deepEqual(decodeKeys(bytes("Q=_")), ["q", "+", "-"]);
  assert.deepEqual(decodeKeys(bytes("\x03")), ["ctrl-c"]);
  assert.deepEqual(decodeKeys(bytes("zZ9")), []);
  assert.deepEqual(decodeInput(bytes("zS \x7f\r")), [
    { key: null, char: "z" },
    { key: "s", char: "S" },
    { key: null, char: " " },
    { key: "backspace", char: null },
    { key: "enter", char: null },
  ]);
});

Deno.test("arrows, PgUp/PgDn, Home/End in CSI and SS3 forms", () => {
  assert.deepEqual(decodeKeys(bytes("\x1b[A\x1b[B\x1bOA\x1bOB")), ["up", "down", "up", "down"]);
  assert.deepEqual(decodeKeys(bytes("\x1b[5~\x1b[6~")), ["pgup", "pgdn"]);
  assert.deepEqual(decodeKeys(bytes("\x1b[H\x1b[F\x1b[1~\x1b[4~")), ["home", "end", "home", "end"]);
});

Deno.test("unknown sequences are dropped whole, never read as letters", () => {
  // F5 is ESC [ 1 5 ~ ; a mouse-ish report; a lone ESC is Escape.
  assert.deepEqual(decodeKeys(bytes("\x1b[15~q")), ["q"]);
  assert.deepEqual(decodeKeys(bytes("\x1b[1;5Cq")), ["q"]);
  assert.deepEqual(decodeKeys(bytes("\x1b")), ["escape"]);
  assert.deepEqual(decodeKeys(bytes("\x1b[")), []);
});

function ctx(ui: UiState, overrides: Partial<KeyContext> = {}): KeyContext {
  const s = sampleSnapshot();
  return {
    processes: sortProcesses(s.processes, ui.sort),
    pageRows: 9,
    updateMs: 1000,
    nowMs: 5000,
    ...overrides,
  };
}

Deno.test("daemon keys give their command and a 'requested' notice", () => {
  const ui = initialUiState();
  const cases: [Parameters<typeof reduceKey>[1], unknown][] = [
    ["q", { kind: "stop", reason: "q pressed" }],
    ["ctrl-c", { kind: "stop", reason: "Ctrl-C pressed" }],
    ["r", { kind: "remeasure" }],
    ["c", { kind: "cacheAdd", pages: 100 }],
    ["d", { kind: "cacheDrain" }],
    ["m", { kind: "toggleMode" }],
    ["a", { kind: "toggleAuto" }],
    ["o", { kind: "allOff" }],
    ["+", { kind: "setUpdateInterval", ms: 2000 }],
    ["-", { kind: "setUpdateInterval", ms: 500 }],
  ];
  for (const [key, command] of cases) {
    const out = reduceKey(ui, key, ctx(ui));
    assert.deepEqual(out.command, command, key);
    assert.match(out.ui.notice?.text ?? "", /^requested: /);
    assert.equal(out.ui.notice?.atMs, 5000);
  }
});

Deno.test("+/- are clamped and refuse when the interval is unknown", () => {
  const ui = initialUiState();
  assert.deepEqual(reduceKey(ui, "-", ctx(ui, { updateMs: 150 })).command, {
    kind: "setUpdateInterval",
    ms: 100,
  });
  const unknown = reduceKey(ui, "+", ctx(ui, { updateMs: null }));
  assert.equal(unknown.command, null);
  assert.equal(unknown.ui.notice?.text, "update interval unknown");
});

Deno.test("e/x pin the selected process, which follows its pid after re-sorting", () => {
  let ui = initialUiState();
  ui = reduceKey(ui, "down", ctx(ui)).ui;
  const second = ctx(ui).processes[1]!;
  assert.deepEqual(ui.selected, { pid: second.pid, start_time: second.start_time });
  ui = reduceKey(ui, "s", ctx(ui)).ui; // sort by dTLB: the process moves
  assert.equal(ui.sort, "dtlb");
  assert.notEqual(ctx(ui).processes.indexOf(second), 1);
  const pinned = reduceKey(ui, "e", ctx(ui)).command;
  assert.deepEqual(pinned, {
    kind: "pin",
    pid: second.pid,
    start_time: second.start_time,
    state: "on",
  });
  assert.deepEqual(reduceKey(ui, "x", ctx(ui)).command, { ...pinned, state: "off" });
  assert.deepEqual(reduceKey(ui, "u", ctx(ui)).command, { ...pinned, state: null });
  const none = reduceKey(ui, "e", ctx(ui, { processes: [] }));
  assert.equal(none.command, null);
});

Deno.test("selection moves by rows and pages and keeps itself in view", () => {
  let ui = initialUiState();
  for (let i = 0; i < 12; i++) ui = reduceKey(ui, "down", ctx(ui)).ui;
  assert.equal(ui.selectedIndex, 12);
  assert.equal(ui.scroll, 4); // rows 4..12 visible with 9 rows
  ui = reduceKey(ui, "pgdn", ctx(ui)).ui;
  assert.equal(ui.selectedIndex, 21);
  ui = reduceKey(ui, "end", ctx(ui)).ui;
  assert.equal(ui.selectedIndex, 29);
  assert.equal(ui.scroll, 21);
  ui = reduceKey(ui, "down", ctx(ui)).ui;
  assert.equal(ui.selectedIndex, 29);
  ui = reduceKey(ui, "pgup", ctx(ui)).ui;
  assert.equal(ui.selectedIndex, 20);
  ui = reduceKey(ui, "home", ctx(ui)).ui;
  assert.equal(ui.selectedIndex, 0);
  assert.equal(ui.scroll, 0);
});

Deno.test("sort cycles MAR, dTLB, RSS, THR, PTE, PID, NAME; unknown MAR sorts last", () => {
  let ui = initialUiState();
  const seen = [ui.sort];
  for (let i = 0; i < 7; i++) {
    ui = reduceKey(ui, "s", ctx(ui)).ui;
    seen.push(ui.sort);
  }
  assert.deepEqual(seen, ["mar", "dtlb", "rss", "threads", "pte", "pid", "name", "mar"]);
  const list = [sampleProcess(7), sampleProcess(1), sampleProcess(2)]; // 7 is n/a: mar null
  assert.deepEqual(sortProcesses(list, "mar").map((p) => p.mar === null), [false, false, true]);
  assert.deepEqual(sortProcesses(list, "pid").map((p) => p.pid), [1007, 1014, 1049]);
  assert.deepEqual(sortProcesses(list, "threads").map((p) => p.threads), [4, 3, 2]);
  assert.deepEqual(sortProcesses(list, "pte").map((p) => p.pte_kb), [2496, 2176, 2112]);
});

Deno.test("i reverses the sort; an unknown still sorts last", () => {
  const list = [sampleProcess(7), sampleProcess(1), sampleProcess(2)]; // 7 is n/a: mar null
  const ui = reduceKey(initialUiState(), "i", ctx(initialUiState())).ui;
  assert.equal(ui.sortReversed, true);
  assert.deepEqual(sortProcesses(list, "mar", true).map((p) => p.pid), [1007, 1014, 1049]);
  assert.deepEqual(sortProcesses(list, "pid", true).map((p) => p.pid), [1049, 1014, 1007]);
  assert.deepEqual(
    sortProcesses(list, "rss", true).map((p) => p.rss_kb),
    [
      sampleProcess(1).rss_kb,
      sampleProcess(2).rss_kb,
      sampleProcess(7).rss_kb,
    ].sort((a, b) => a - b),
  );
  assert.equal(reduceKey(ui, "i", ctx(ui)).ui.sortReversed, false);
});

Deno.test("help opens with ? or h, ? again shows the columns, any other key closes it without acting", () => {
  let ui = reduceKey(initialUiState(), "?", ctx(initialUiState())).ui;
  assert.equal(ui.helpShown, true);
  const out = reduceKey(ui, "c", ctx(ui));
  assert.equal(out.ui.helpShown, false);
  assert.equal(out.command, null);
  const columns = reduceKey(ui, "?", ctx(ui)).ui;
  assert.deepEqual([columns.helpShown, columns.helpPage], [true, 1]);
  assert.equal(reduceKey(columns, "?", ctx(columns)).ui.helpShown, false);
  ui = reduceKey(initialUiState(), "h", ctx(initialUiState())).ui;
  assert.equal(reduceKey(ui, "q", ctx(ui)).command?.kind, "stop");
});

Deno.test("p toggles pause", () => {
  const ui = reduceKey(initialUiState(), "p", ctx(initialUiState())).ui;
  assert.equal(ui.paused, true);
  assert.equal(reduceKey(ui, "p", ctx(ui)).ui.paused, false);
});

Deno.test("absorbSnapshot keeps events once, in a bounded ring, and retires notices", () => {
  const s = sampleSnapshot();
  let ui = absorbSnapshot(initialUiState(), s, 0);
  assert.deepEqual(ui.events.map((e) => e.seq), [1, 2, 3]);
  ui = absorbSnapshot(ui, s, 0); // the same snapshot again adds nothing
  assert.equal(ui.events.length, 3);
  const many = Array.from({ length: 80 }, (_, i) => sampleEvent(10 + i));
  ui = absorbSnapshot(ui, sampleSnapshot({ events: many }), 0);
  assert.equal(ui.events.length, EVENT_RING_SIZE);
  assert.equal(ui.events.at(-1)?.seq, 89);

  const noticed: UiState = { ...ui, notice: { text: "requested: x", atMs: 1000 } };
  assert.notEqual(absorbSnapshot(noticed, sampleSnapshot({ events: [] }), 2000).notice, null);
  assert.equal(absorbSnapshot(noticed, sampleSnapshot({ events: [] }), 9000).notice, null);
  const acked = absorbSnapshot(noticed, sampleSnapshot({ events: [sampleEvent(500)] }), 1500);
  assert.equal(acked.notice, null);
});

// ------------------------------------------------------- the binding table

/** The README's key list as the table writes it. */
function keyListMarkdown(): string {
  return BINDINGS.map((b) =>
    bindingKeys(b).map((k) => "`" + keyLabel(k) + "`").join("/") + " " + b.help
  ).join(" · ") + ".";
}

Deno.test("the README's key list is the binding table's", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const section = /### Keys\n\n([\s\S]*?)\n\n/.exec(readme);
  assert.ok(section, "README has a '### Keys' section");
  const normalize = (s: string) => s.replace(/\s+/g, " ").trim();
  assert.equal(normalize(section[1]!), keyListMarkdown());
});

Deno.test("every printable key of the table decodes to itself, every binding is in the help", () => {
  for (const key of printableKeys()) assert.deepEqual(decodeKeys(bytes(key)), [key], key);
  for (const b of BINDINGS) {
    assert.ok(HELP_LINES.some((l) => l.endsWith(b.help)), b.help);
    if (b.footer) assert.ok(KEY_LINES[0]!.includes(`${b.keys.join("/")} ${b.footer.long}`));
  }
  assert.equal(KEY_LINES.at(-1), "q quit  / filter  ? help");
});

Deno.test("the footer lines come widest first", () => {
  for (let i = 1; i < KEY_LINES.length; i++) {
    assert.ok(KEY_LINES[i]!.length < KEY_LINES[i - 1]!.length);
  }
});
