import assert from "node:assert/strict";
import { diffFrames, restore, Screen, type TerminalIo } from "../src/ui/screen.ts";
import { type Frame, overlay, rowOf, rowText, span, WIDE_TAIL } from "../src/ui/render_frame.ts";
import { runTui } from "../src/ui/tui.ts";
import { colorEnabled, terminalSupport } from "../src/ui/tui.ts";
import type { DaemonControl, SnapshotListener } from "../src/daemon/control.ts";
import { sampleSnapshot } from "./fixtures/snapshot_sample.ts";
import { outputWithInput } from "./support/command.ts";

function frameOf(lines: string[], cols: number): Frame {
  return { cols, rows: lines.map((l) => rowOf([span(l)], cols)) };
}

const SYNC = (body: string) => `\x1b[?2026h${body}\x1b[?2026l`;

Deno.test("diff: one changed cell writes only that cell, inside synchronized output", () => {
  const prev = frameOf(["hello world", "second row", "third row"], 12);
  const next = frameOf(["hello world", "second rxw", "third row"], 12);
  assert.equal(diffFrames(prev, next), SYNC("\x1b[2;9Hx"));
});

Deno.test("diff: a changed stretch writes from its first to its last changed cell", () => {
  const prev = frameOf(["abcdefghij"], 10);
  const next = frameOf(["aXcdefgYij"], 10);
  assert.equal(diffFrames(prev, next), SYNC("\x1b[1;2HXcdefgY"));
});

Deno.test("diff: a style-only change is a change, and the segment ends in the default style", () => {
  const prev = frameOf(["status ok  "], 11);
  const next: Frame = {
    cols: 11,
    rows: [rowOf([span("status "), span("ok", "32"), span("  ")], 11)],
  };
  assert.equal(diffFrames(prev, next), SYNC("\x1b[1;8H\x1b[0;32mok\x1b[0m"));
});

Deno.test("diff: a wide character is written once, from its first column", () => {
  // Repaint: the tail cell of 漢 writes nothing; the terminal draws both columns.
  assert.equal(diffFrames(null, frameOf(["a漢b"], 4)), SYNC("\x1b[0m\x1b[2J\x1b[1;1Ha漢b"));
  // A wide character replaced by two narrow ones: both columns rewritten.
  assert.equal(diffFrames(frameOf(["a漢b"], 4), frameOf(["axyb"], 4)), SYNC("\x1b[1;2Hxy"));
  // Two narrow ones replaced by a wide one.
  assert.equal(diffFrames(frameOf(["axyb"], 4), frameOf(["a字b"], 4)), SYNC("\x1b[1;2H字"));
  // A change that starts at a tail (its style changed) starts at the head instead.
  const prev = frameOf(["a漢b"], 4);
  const next: Frame = {
    cols: 4,
    rows: [prev.rows[0]!.map((c, i) => i === 2 ? { ...c, style: "1" } : c)],
  };
  assert.equal(diffFrames(prev, next), SYNC("\x1b[1;2H漢\x1b[0;1m\x1b[0m"));
});

Deno.test("rowOf and overlay never leave half a wide character", () => {
  // The right edge: 漢 does not fit in the last column, a blank does.
  assert.deepEqual(rowOf([span("a漢")], 2).map((c) => c.ch), ["a", " "]);
  assert.deepEqual(rowOf([span("a漢")], 3).map((c) => c.ch), ["a", "漢", WIDE_TAIL]);
  // An overlay over either half of 漢 blanks the other half.
  const row = rowOf([span("漢字漢")], 6);
  const mark = rowOf([span("|")], 1);
  assert.deepEqual(overlay(row, 1, mark).map((c) => c.ch), [
    " ",
    "|",
    "字",
    WIDE_TAIL,
    "漢",
    WIDE_TAIL,
  ]);
  assert.deepEqual(overlay(row, 2, mark).map((c) => c.ch), [
    "漢",
    WIDE_TAIL,
    "|",
    " ",
    "漢",
    WIDE_TAIL,
  ]);
});

Deno.test("diff: nothing changed writes nothing", () => {
  const f = frameOf(["same", "rows"], 4);
  assert.equal(diffFrames(f, frameOf(["same", "rows"], 4)), "");
});

Deno.test("diff: first frame or new size repaints every row after a clear", () => {
  const f = frameOf(["ab", "cd"], 2);
  const full = SYNC("\x1b[0m\x1b[2J\x1b[1;1Hab\x1b[2;1Hcd");
  assert.equal(diffFrames(null, f), full);
  assert.equal(diffFrames(frameOf(["abc"], 3), f), full);
});

function fakeIo(cols = 20, rows = 3) {
  const out: string[] = [];
  const raw: boolean[] = [];
  const io: TerminalIo = {
    write: (t) => void out.push(t),
    size: () => ({ cols, rows }),
    setRaw: (on) => void raw.push(on),
  };
  return { io, out, raw };
}

Deno.test("Screen: enter takes over, draw diffs, restore gives back once", () => {
  const { io, out, raw } = fakeIo();
  const screen = new Screen(io);
  screen.enter();
  assert.deepEqual(raw, [true]);
  assert.equal(out[0], "\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[2J");
  screen.draw(frameOf(["one", "two"], 5));
  screen.draw(frameOf(["one", "twx"], 5));
  assert.equal(out[2], SYNC("\x1b[2;3Hx"));
  screen.draw(frameOf(["one", "twx"], 5));
  assert.equal(out.length, 3);
  screen.invalidate();
  screen.draw(frameOf(["one", "twx"], 5));
  assert.ok(out[3]!.includes("\x1b[2J"));
  restore(); // the module-level restore reaches the active screen
  restore();
  screen.restore();
  assert.equal(out.at(-1), "\x1b[?2026l\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l");
  assert.equal(out.length, 5);
  assert.deepEqual(raw, [true, false]);
  screen.draw(frameOf(["after"], 5)); // after restore: nothing is drawn
  assert.equal(out.length, 5);
});

Deno.test("Screen: restore survives a terminal that is gone", () => {
  let fail = false;
  const attempts: string[] = [];
  const screen = new Screen({
    write: () => {
      if (fail) attempts.push("write");
      if (fail) throw new Error("EIO");
    },
    size: () => ({ cols: 1, rows: 1 }),
    setRaw: (on) => {
      if (fail) attempts.push(`setRaw ${on}`);
      if (fail) throw new Error("EBADF");
    },
  });
  screen.enter();
  fail = true;
  assert.doesNotThrow(() => screen.restore());
  // The failed write did not stop it from giving the input mode back too.
  assert.deepEqual(attempts, ["write", "setRaw false"]);
  // And it counts as restored: neither a second restore nor a draw tries again.
  assert.doesNotThrow(() => screen.restore());
  assert.doesNotThrow(() => restore());
  screen.draw(frameOf(["x"], 1));
  assert.deepEqual(attempts, ["write", "setRaw false"]);
});

const CRASHES = {
  "an uncaught error": 'setTimeout(() => { throw new Error("boom"); }, 0);',
  "an unhandled rejection": 'Promise.reject(new Error("boom"));',
  "Deno.exit": 'console.error("boom"); Deno.exit(3);',
};

for (const [how, crash] of Object.entries(CRASHES)) {
  Deno.test(`${how} restores the terminal before the process dies`, async () => {
    const screenUrl = new URL("../src/ui/screen.ts", import.meta.url).href;
    const script = `
      import { installRestoreGuards, Screen } from ${JSON.stringify(screenUrl)};
      const enc = new TextEncoder();
      const screen = new Screen({
        write: (t) => Deno.stdout.writeSync(enc.encode(t)),
        size: () => ({ cols: 10, rows: 2 }),
        setRaw: () => {},
      });
      screen.enter();
      installRestoreGuards(screen);
      ${crash}
    `;
    const { code, stdout, stderr } = await outputWithInput(
      Deno.execPath(),
      ["run", "-A", "-"],
      script,
    );
    const text = new TextDecoder().decode(stdout);
    assert.notEqual(code, 0);
    assert.match(new TextDecoder().decode(stderr), /boom/);
    assert.ok(text.startsWith("\x1b[?1049h\x1b[?25l"), JSON.stringify(text));
    assert.ok(text.endsWith("\x1b[?25h\x1b[?1049l"), JSON.stringify(text));
  });
}

Deno.test("terminalSupport refuses pipes and dumb terminals; NO_COLOR turns colour off", () => {
  assert.deepEqual(terminalSupport({ TERM: "xterm-256color" }, true), { ok: true });
  for (
    const [env, tty] of [[{ TERM: "xterm" }, false], [{ TERM: "dumb" }, true], [{}, true]] as const
  ) {
    const r = terminalSupport(env, tty);
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.reason, /--json/);
  }
  assert.equal(colorEnabled({}), true);
  assert.equal(colorEnabled({ NO_COLOR: "" }), true);
  assert.equal(colorEnabled({ NO_COLOR: "1" }), false);
});

Deno.test("runTui: snapshots drawn, keys become daemon calls, q ends and restores", async () => {
  const calls: string[] = [];
  const control: DaemonControl = {
    act: (c) => {
      const { kind, ...args } = c;
      calls.push([kind, ...Object.values(args)].join(" "));
    },
  };
  let listener: SnapshotListener | null = null;
  let input!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (input = c) });
  const { io, out, raw } = fakeIo(80, 24);
  const done = runTui({
    control,
    subscribe: (l) => {
      listener = l;
      return () => void (listener = null);
    },
    screen: new Screen(io),
    input: stream,
    color: false,
    nowMs: () => 0,
  });
  assert.ok(out.join("").includes("waiting for the first snapshot"));
  listener!(sampleSnapshot());
  assert.ok(out.at(-1)!.includes("worker-29"));
  const send = (s: string) => input.enqueue(new TextEncoder().encode(s));
  send("rcdma");
  send("\x1b[B"); // down: select the second process (pid 1196, MAR order)
  send("e");
  send("x+-");
  send("q");
  assert.equal(await done, "q pressed");
  assert.deepEqual(calls, [
    "remeasure",
    "cacheAdd 100",
    "cacheDrain",
    "toggleMode",
    "toggleAuto",
    "pin 1196 500028 on",
    "pin 1196 500028 off",
    "setUpdateInterval 2000",
    "setUpdateInterval 1000", // presses compound: '-' halves the 2000 just asked for
    "stop q pressed",
  ]);
  assert.equal(listener, null);
  assert.deepEqual(raw, [true, false]);
  assert.ok(out.at(-1)!.endsWith("\x1b[?1049l"));
});

Deno.test("runTui: pause freezes the table, events still arrive; the daemon can end it", async () => {
  let listener: SnapshotListener = () => {};
  let input!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (input = c) });
  const stop = new AbortController();
  const { io, out } = fakeIo(80, 24);
  const noop = () => {};
  const done = runTui({
    control: { act: noop },
    subscribe: (l) => {
      listener = l;
      return noop;
    },
    screen: new Screen(io),
    input: stream,
    color: false,
    nowMs: () => 0,
    signal: stop.signal,
  });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0)); // let the input pump run
  listener(sampleSnapshot());
  input.enqueue(new TextEncoder().encode("p"));
  await settle();
  assert.ok(out.at(-1)!.includes("PAUSED]"));
  const renamed = sampleSnapshot({
    time: "2026-11-26T22:40:00.000Z",
    events: [{
      seq: 7,
      time: "2026-11-26T22:40:00Z",
      kind: "cache",
      pid: null,
      message: "cache +100",
    }],
  });
  renamed.processes[29]!.name = "renamed-now";
  listener(renamed);
  const drawn = out.at(-1)!;
  assert.ok(drawn.includes("cache +100"), "events keep arriving while paused");
  assert.ok(!drawn.includes("renamed-now"), "table stays frozen");
  input.enqueue(new TextEncoder().encode("p"));
  await settle();
  assert.ok(out.at(-1)!.includes("renamed-now"));
  stop.abort();
  assert.equal(await done, "stopped by the daemon");
  assert.ok(out.at(-1)!.endsWith("\x1b[?1049l"));
});

Deno.test("rowOf shares one cell per (character, style) and stays right past its table's bound", () => {
  const a = rowOf([span("aa", "1")], 4);
  assert.equal(a[0], a[1], "the same character and style: the same cell");
  assert.notEqual(a[0], rowOf([span("a", "2")], 1)[0], "another style: another cell");
  // More distinct characters than the table keeps: it starts over, every row still right.
  const text = Array.from({ length: 6000 }, (_, i) => String.fromCodePoint(0x4e00 + i)).join("");
  for (let at = 0; at < text.length; at += 50) {
    const piece = text.slice(at, at + 50);
    assert.equal(rowText(rowOf([span(piece)], 100)).replaceAll(WIDE_TAIL, ""), piece);
  }
  assert.equal(rowText(rowOf([span("aa", "1")], 2)), "aa");
});
