/**
 * The real binary with a stdout nobody reads: `--headless` and `--json`
 * into a pipe that is already full (a FIFO this test fills to EAGAIN and
 * then never reads). The daemon keeps ticking (the tick counter grows
 * between two scrapes of /metrics), --json counts what it drops and says so
 * once in --log, and SIGTERM ends it within 5 s with exit 0, after its undo.
 * Before the output queue, the first write blocked the whole process.
 * A reader that leaves (EPIPE) still ends waspd quietly, exit 0, undo first.
 */
import assert from "node:assert/strict";
import { libc, O_NONBLOCK, O_RDONLY, O_WRONLY } from "../src/ffi/libc.ts";
import { OwnedFd } from "../src/ffi/owned.ts";
import { fdWriter } from "../src/sys/stdio.ts";
import { before, poll } from "./support/poll.ts";
import { MAIN, startWaspd } from "./support/waspd.ts";
import { lines } from "../src/sys/stream_lines.ts";

// libc stays open for the whole file (the sanitizer counts a library opened inside a test).
libc();

/** A FIFO with its pipe full: `path` for waspd's stdout, and the read end nobody reads. */
async function fullFifo(dir: string): Promise<{ path: string; reader: OwnedFd }> {
  const path = `${dir}/stdout`;
  assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success, "mkfifo");
  const reader = new OwnedFd(libc().open(path, O_RDONLY | O_NONBLOCK));
  using filler = new OwnedFd(libc().open(path, O_WRONLY | O_NONBLOCK));
  const write = fdWriter(filler.fd);
  const block = new Uint8Array(4096).fill(0x2e);
  let total = 0;
  for (let n = write(block); n > 0; n = write(block)) total += n;
  assert.ok(total >= 4096, `the pipe took ${total} bytes`);
  return { path, reader };
}

/** `waspd_ticks_total` and the stdout drop count from one scrape (null: no answer in 5 s). */
async function scrape(url: string): Promise<{ ticks: number; dropped: number } | null> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const body = await r.text();
    if (r.status !== 200) return null;
    const ticks = /^waspd_ticks_total (\d+)$/m.exec(body);
    const dropped = /^waspd_output_dropped_lines_total\{stream="stdout"\} (\d+)$/m.exec(body);
    assert.ok(ticks && dropped, body);
    return { ticks: Number(ticks[1]), dropped: Number(dropped[1]) };
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return null;
  }
}

async function runStalled(
  face: "--headless" | "--json",
  check: (url: string, log: string) => Promise<void>,
): Promise<{ log: string; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "waspd-stall-" });
  const { path, reader } = await fullFifo(dir);
  const log = `${dir}/events.jsonl`;
  const args = ["--sim", face, "--metrics", "127.0.0.1:0", "-u", "100", "--time-scale", "1000"];
  // sh opens the FIFO (a reader exists: no wait) and becomes deno.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'out="$1"; shift; exec "$@" > "$out"',
      "sh",
      path,
      Deno.execPath(),
      "run",
      "-A",
      MAIN,
      ...args,
      "--log",
      log,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", JOURNAL_STREAM: "" },
    signal: AbortSignal.timeout(90_000),
  }).spawn();
  let stderr = "";
  const errDone = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  try {
    const url = await poll(
      "the metrics address",
      30_000,
      () => /metrics on (http:\/\/\S+\/metrics)/.exec(stderr)?.[1] ?? null,
      25,
    );
    await check(url, log);
    child.kill("SIGTERM");
    const ended = await before(child.status, 5000);
    assert.notEqual(ended, "not yet", `SIGTERM did not end waspd within 5 s; stderr:\n${stderr}`);
    if (ended !== "not yet") assert.equal(ended.value.code, 0, stderr);
    await errDone;
    return { log: await Deno.readTextFile(log), stderr };
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // ended
    }
    await child.status;
    reader[Symbol.dispose]();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Two scrapes that answer, the second with more ticks: the loop runs. */
async function ticksAdvance(url: string): Promise<void> {
  const first = await poll("a first scrape", 30_000, () => scrape(url));
  const second = await poll(
    "a later scrape with more ticks",
    30_000,
    async () => {
      const s = await scrape(url);
      return s !== null && s.ticks > first.ticks ? s : null;
    },
  );
  assert.ok(second.ticks > first.ticks);
}

Deno.test("--headless into a full pipe nobody reads: ticks and scrapes go on, SIGTERM exits 0 within 5 s", async () => {
  const { log } = await runStalled("--headless", ticksAdvance);
  // The undo ran (its lines are events, and --log has them).
  assert.match(log, /"kind":"undo"/);
});

Deno.test("--json into a full pipe nobody reads: lines are dropped and counted, told once, SIGTERM exits 0", async () => {
  const { log } = await runStalled("--json", async (url) => {
    await ticksAdvance(url);
    // The queue fills too (4 MiB of snapshots): lines are dropped and counted.
    await poll("dropped lines in the metrics", 60_000, async () => {
      const s = await scrape(url);
      return s !== null && s.dropped > 0 ? s : null;
    }, 200);
  });
  const events = log.trim().split("\n").map((l) =>
    JSON.parse(l) as { kind: string; message: string }
  );
  const drops = events.filter((e) => e.message.startsWith("output dropped: "));
  // Still stalled at the stop: one report for the whole episode, its counts so far.
  assert.equal(drops.length, 1, JSON.stringify(drops));
  assert.match(
    drops[0]!.message,
    /^output dropped: stdout's reader is not reading: \d+ lines? \(.+\) in [\d.]+ s so far$/,
  );
  assert.ok(events.some((e) => e.kind === "undo"));
});

for (const face of ["--json", "--headless"]) {
  Deno.test(`${face} whose reader leaves mid-run: EPIPE ends waspd quietly, exit 0, after the undo`, async () => {
    const child = startWaspd(["--sim", face, "-u", "100", "--time-scale", "1000"], {
      env: { JOURNAL_STREAM: "" },
    });
    const stderr = new Response(child.stderr).text();
    let first: string | null = null;
    // Leaving the loop cancels the stream: the reader goes, the pipe's read end closes.
    for await (const line of lines(child.stdout)) {
      first = line;
      break;
    }
    assert.notEqual(first, null, "a first line");
    const status = await child.status;
    const err = await stderr;
    assert.equal(status.code, 0, err);
    assert.doesNotMatch(err, /unexpected error/);
    assert.match(err, /^waspd: \/proc\/mitosis\/inherit restored to 1$/m, "the undo ran");
  });
}
