import assert from "node:assert/strict";
import {
  headlessLine,
  headlessSink,
  journalMode,
  priorityOf,
  SD_ERR,
  SD_INFO,
  SD_WARNING,
} from "../src/ui/headless.ts";
import { sampleEvent } from "./fixtures/snapshot_sample.ts";

Deno.test("errors are priority 3, warnings 4, everything else 6", () => {
  assert.equal(priorityOf(sampleEvent(1, { kind: "error" })), SD_ERR);
  assert.equal(priorityOf(sampleEvent(2, { kind: "info", severity: "warning" })), SD_WARNING);
  assert.equal(priorityOf(sampleEvent(3, { kind: "enable" })), SD_INFO);
  assert.equal(priorityOf(sampleEvent(4, { kind: "undo" })), SD_INFO);
});

Deno.test("under the journal a line carries the sd-daemon prefix, elsewhere the time", () => {
  const e = sampleEvent(7, { kind: "error", pid: 42, message: "enable pid 42 (x): EPERM" });
  assert.equal(headlessLine(e, true), "<3>error pid=42: enable pid 42 (x): EPERM");
  assert.equal(headlessLine(e, false), `${e.time} error pid=42: enable pid 42 (x): EPERM`);
  assert.equal(
    headlessLine(sampleEvent(8, { kind: "probe", pid: null, message: "PTL 4x4" }), true),
    "<6>probe: PTL 4x4",
  );
});

Deno.test("a message with control characters stays one line", () => {
  const line = headlessLine(sampleEvent(9, { message: "a\nb\r\x1b[2J" }), true);
  for (const c of ["\n", "\r", "\x1b"]) assert.ok(!line.includes(c));
  assert.match(line, /a\\n?.*b/);
});

Deno.test("JOURNAL_STREAM decides the journal mode", () => {
  assert.equal(journalMode({ JOURNAL_STREAM: "8:12345" }), true);
  assert.equal(journalMode({ JOURNAL_STREAM: "" }), false);
  assert.equal(journalMode({}), false);
});

Deno.test("a failing stdout never throws into the daemon: lines stop after the first failure", () => {
  const written: string[] = [];
  const failures: unknown[] = [];
  let fail = false;
  const sink = headlessSink(
    (text) => {
      if (fail) throw new Error("EPIPE");
      written.push(text);
    },
    true,
    (error) => failures.push(error),
  );
  sink("{}", sampleEvent(1, { kind: "info", message: "one" }));
  fail = true;
  sink("{}", sampleEvent(2, { kind: "info", message: "two" }));
  fail = false;
  sink("{}", sampleEvent(3, { kind: "info", message: "three" }));
  assert.deepEqual(written, ["<6>info: one\n"]);
  assert.deepEqual(failures.map((e) => (e as Error).message), ["EPIPE"], "told once");
});

Deno.test("the lowest priority: events below it are not written, the rest are", () => {
  const written: string[] = [];
  const sink = headlessSink((text) => void written.push(text), true, () => {}, SD_WARNING);
  sink("{}", sampleEvent(1, { kind: "info", message: "routine" }));
  sink("{}", sampleEvent(2, { kind: "info", message: "advisory", severity: "warning" }));
  sink("{}", sampleEvent(3, { kind: "error", message: "failed" }));
  assert.deepEqual(written, ["<4>info: advisory\n", "<3>error: failed\n"]);
});
