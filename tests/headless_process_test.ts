/**
 * `waspd --headless` end to end: one line per event on stdout, each with its
 * sd-daemon priority prefix when JOURNAL_STREAM says stdout is the journal
 * (faked here), the same events as JSON lines in --log, and the undo on
 * SIGTERM. Every line's prefix is checked against the event --log recorded.
 */
import assert from "node:assert/strict";
import type { EventJson } from "../src/core/snapshot.ts";
import { priorityOf, SD_WARNING } from "../src/ui/headless.ts";
import { poll } from "./support/poll.ts";
import { spawnWaspd } from "./support/waspd.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/** Run waspd headless with a fake journal and --log until `until` matches; lines and events. */
async function runHeadless(
  args: string[],
  until: (line: string) => boolean,
): Promise<{ lines: string[]; logged: EventJson[] }> {
  const dir = await Deno.makeTempDir({ prefix: "waspd-headless-" });
  try {
    const log = `${dir}/events.jsonl`;
    const waspd = spawnWaspd([...args, "--headless", "--log", log], { JOURNAL_STREAM: "8:4242" });
    try {
      await waspd.waitLine(until, 30_000);
    } finally {
      assert.equal(await waspd.stop(), 0);
    }
    const logged = (await Deno.readTextFile(log)).trim().split("\n").map((l) => JSON.parse(l));
    return { lines: waspd.lines.filter((l) => l !== ""), logged };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** One line per logged event, in order, with the event's priority and kind. */
function assertOneLinePerEvent(lines: string[], logged: EventJson[]): void {
  assert.equal(lines.length, logged.length, lines.join("\n"));
  lines.forEach((line, i) => {
    const e = logged[i]!;
    const pid = e.pid === null ? "" : ` pid=${e.pid}`;
    assert.ok(
      line.startsWith(`<${priorityOf(e)}>${e.kind}${pid}: `),
      `${line} vs ${JSON.stringify(e)}`,
    );
  });
}

Deno.test("--headless --sim under a fake JOURNAL_STREAM: prefixed lines, one per event, the undo last", async () => {
  const { lines, logged } = await runHeadless(
    ["--sim", "-u", "200", "-y", "400"],
    (l) => l.startsWith("<6>steer "),
  );
  assertOneLinePerEvent(lines, logged);
  assert.ok(lines.some((l) => l.startsWith("<6>enable pid=")));
  assert.ok(lines.some((l) => l.startsWith("<6>probe: PTL 4x4 measured")));
  assert.ok(lines.at(-1)!.startsWith("<6>undo: "), lines.join("\n"));
  assert.ok(lines.every((l) => !l.includes('{"schema"')), "no snapshot on stdout");
});

Deno.test("--headless on a host without Mitosis or counters: the advisory warnings are priority 4", async () => {
  const { lines, logged } = await runHeadless(
    [
      "--proc-root",
      `${FIXTURES}proc-procs`,
      "--sys-root",
      `${FIXTURES}sys-8node`,
      "-i",
      "600000",
    ],
    (l) => l.startsWith("<6>probe: "),
  );
  assertOneLinePerEvent(lines, logged);
  // Which warnings appear depends on this machine (a Mitosis kernel with a PMU
  // has none), but each warning event is a <4> line and only those are.
  const warnings = logged.filter((e) => e.severity === "warning");
  assert.equal(lines.filter((l) => l.startsWith("<4>")).length, warnings.length);
  if (logged.some((e) => e.message.startsWith("ADVISORY"))) {
    assert.ok(lines.some((l) => l.startsWith("<4>info: ADVISORY: nothing is written")));
  }
});

Deno.test("--headless without JOURNAL_STREAM starts each line with the event's time", async () => {
  const waspd = spawnWaspd(["--sim", "-u", "200", "--headless"], { JOURNAL_STREAM: "" });
  try {
    await waspd.waitLine((l) => / probe: PTL /.test(l), 30_000);
  } finally {
    assert.equal(await waspd.stop(), 0);
  }
  const lines = waspd.lines.filter((l) => l !== "");
  assert.ok(lines.length >= 2);
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z]+/);
});

Deno.test('headless-level = "warning" in the file: only warnings and errors reach stdout, --log keeps all', async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-headless-level-" });
  try {
    const file = `${dir}/waspd.toml`;
    const log = `${dir}/events.jsonl`;
    await Deno.writeTextFile(file, `headless-level = "warning"\n`);
    // The software signals on the simulated machine: its startup says so as a warning.
    const waspd = spawnWaspd(
      ["--sim", "-u", "200", "--signals", "software", "--headless", "--config", file, "--log", log],
      { JOURNAL_STREAM: "8:4242" },
    );
    const logged = () =>
      Deno.readTextFile(log).then((t) =>
        t.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as EventJson)
      ).catch(() => [] as EventJson[]);
    try {
      await poll("a PTL measurement in --log", 30_000, async () => {
        const events = await logged();
        return events.some((e) => e.kind === "probe") ? true : null;
      });
    } finally {
      assert.equal(await waspd.stop(), 0);
    }
    const events = await logged();
    const lines = waspd.lines.filter((l) => l !== "");
    const kept = events.filter((e) => priorityOf(e) <= SD_WARNING);
    assert.ok(events.length > kept.length, "--log has the info events");
    assert.ok(kept.length >= 1, JSON.stringify(events));
    assert.equal(lines.length, kept.length, lines.join("\n"));
    assert.ok(lines.every((l) => /^<[34]>/.test(l)), lines.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
