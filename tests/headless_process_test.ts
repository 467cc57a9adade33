/**
 * `waspd --sim --headless` end to end: one line per event on stdout, each
 * with its sd-daemon priority prefix when JOURNAL_STREAM says stdout is the
 * journal (faked here), the same events as JSON lines in --log, and the undo
 * on SIGTERM. The simulated machine has a stopped process (priority 4, the
 * skipped call) and replicates others (priority 6).
 */
import assert from "node:assert/strict";
import { spawnWaspd } from "./support/waspd_process.ts";

const ARGS = ["--sim", "-u", "200", "-y", "400"];

Deno.test("--headless under a fake JOURNAL_STREAM prints prefixed lines, one per event", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-headless-" });
  const log = `${dir}/events.jsonl`;
  const waspd = spawnWaspd([...ARGS, "--headless", "--log", log], { JOURNAL_STREAM: "8:4242" });
  try {
    await waspd.waitLine((l) => l.startsWith("<6>enable "), 30_000);
    await waspd.waitLine((l) => l.startsWith("<4>"), 30_000);
  } finally {
    assert.equal(await waspd.stop(), 0);
  }
  try {
    const lines = waspd.lines.filter((l) => l !== "");
    assert.ok(lines.length >= 3);
    for (const line of lines) assert.match(line, /^<[346]>[a-z]+( pid=\d+)?: \S/);
    // The stopped process: the call was skipped, at warning priority.
    assert.ok(
      lines.some((l) => /^<4>info pid=\d+: enable .* skipped: the process is stopped/.test(l)),
    );
    // The undo after SIGTERM is in the stream too.
    assert.ok(lines.some((l) => l.startsWith("<6>undo: ")), lines.join("\n"));
    // No snapshot JSON on stdout, and --log got the same events as JSON lines.
    assert.ok(lines.every((l) => !l.startsWith("{")));
    const logged = (await Deno.readTextFile(log)).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(logged.length, lines.length);
    assert.deepEqual(
      logged.map((e: { kind: string }) => e.kind),
      lines.map((l) => /^<\d>([a-z]+)/.exec(l)![1]),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--headless without JOURNAL_STREAM starts each line with the event's time", async () => {
  const waspd = spawnWaspd([...ARGS, "--headless"], { JOURNAL_STREAM: "" });
  try {
    await waspd.waitLine((l) => / probe: PTL /.test(l), 30_000);
  } finally {
    assert.equal(await waspd.stop(), 0);
  }
  const lines = waspd.lines.filter((l) => l !== "");
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z]+/);
});
