/**
 * Hostile command lines: flag bounds, `--sim` before a subcommand,
 * probe rounds, quiet EPIPE, sanitized usage errors, one escape notation and
 * a closed stdout. Pure checks through runCli and the sanitizer; the rest
 * with the real binary, every run bounded by a timeout.
 */
import assert from "node:assert/strict";
import { EXIT_USAGE } from "../src/cli.ts";
import { attachSimCount } from "../src/cli_argv.ts";
import { label } from "../src/daemon/managed.ts";
import { summarizeRounds } from "../probe/chase.ts";
import { SimHost } from "../src/sim/host.ts";
import { stdoutWasClosed } from "../src/sys/stdio.ts";
import { frameText, renderFrame } from "../src/ui/render.ts";
import { sanitizeText } from "../src/ui/sanitize.ts";
import { absorbSnapshot, initialUiState } from "../src/ui/state.ts";
import { sampleProcess, sampleSnapshot } from "./fixtures/snapshot_sample.ts";
import { type CliRun, runRecorded as cli } from "./support/cli_run.ts";
import { MAIN, RUN_TIMEOUT_MS, runWaspd } from "./support/waspd.ts";

function assertUsageError(r: CliRun, message: RegExp) {
  assert.equal(r.code, EXIT_USAGE);
  assert.equal(r.calls.length, 0, "no handler runs");
  assert.match(r.err, message);
  assert.equal(r.err.trimEnd().split("\n").length, 1, `one line, got: ${r.err}`);
}

// ------------------------------------------------------------ row 8

Deno.test("row 8: --time-scale above 1e6 is a usage error on one line", async () => {
  assertUsageError(
    await cli(["--time-scale", "1e15"]),
    /--time-scale: '1e15' is larger than/,
  );
  assertUsageError(await cli(["--sim", "--time-scale", "1000001"]), /larger than 1000000/);
  const ok = await cli(["--sim", "--time-scale", "1e6"]);
  assert.equal(ok.code, 0);
  assert.equal(ok.calls[0]?.config.timeScale, 1e6);
});

// ------------------------------------------------------------ row 10

Deno.test("row 10: -u below the 100 ms of the +/- keys is a usage error", async () => {
  assertUsageError(await cli(["-u", "1"]), /-u: '1' is below the 100 ms minimum/);
  assertUsageError(await cli(["--update-interval", "99"]), /below the 100 ms minimum/);
  const ok = await cli(["-u", "100"]);
  assert.equal(ok.calls[0]?.config.updateIntervalMs, 100);
});

Deno.test("row 10: -u above the 60000 ms of the +/- keys is a usage error", async () => {
  assertUsageError(await cli(["-u", "120000"]), /-u: '120000' is above the 60000 ms maximum/);
  assertUsageError(await cli(["--update-interval", "60001"]), /above the 60000 ms maximum/);
  const ok = await cli(["-u", "60000"]);
  assert.equal(ok.calls[0]?.config.updateIntervalMs, 60_000);
});

Deno.test("--state-dir '' is a usage error (it would write /pins.json); a directory is kept", async () => {
  assertUsageError(await cli(["--state-dir", ""]), /--state-dir: the directory must not be empty/);
  assertUsageError(await cli(["status", "--state-dir="]), /must not be empty/);
  const ok = await cli(["--state-dir", "/tmp/w"]);
  assert.equal(ok.calls[0]?.config.stateDir, "/tmp/w");
});

Deno.test("the pid commands each reach their own handler with the pid", async () => {
  for (const command of ["enable", "disable", "unpin", "steer"]) {
    const r = await cli([command, "42"]);
    assert.equal(r.code, 0);
    assert.equal(r.calls[0]?.command, command);
    assert.equal(r.calls[0]?.extra, 42);
  }
});

// ------------------------------------------------------------ row 11

Deno.test("row 11: probe --rounds 0 is a usage error, 1 is accepted", async () => {
  assertUsageError(
    await cli(["probe", "--rounds", "0"]),
    /--rounds: '0' must be at least 1/,
  );
  const ok = await cli(["probe", "--rounds", "1"]);
  assert.deepEqual(ok.calls[0]?.extra, { rounds: 1, bufferMb: null });
});

Deno.test("row 11: one round has an unknown spread (null), two have a measured one", () => {
  assert.deepEqual(summarizeRounds([100]), { median: 100, spread: null });
  assert.deepEqual(summarizeRounds([100, 120]), { median: 110, spread: 20 / 110 });
});

Deno.test("row 11: the simulated probe with one round reports every spread as null", async () => {
  const host = new SimHost({ nodes: 2, seed: 1, timeScale: 1e6 });
  try {
    const m = await host.prober.measure(await host.topology(), { rounds: 1 });
    assert.ok(m.latencyNs.flat().every((v) => v !== null && v > 0), "latencies measured");
    assert.deepEqual(m.spread, [[null, null], [null, null]]);
    const two = await host.prober.measure(await host.topology(), { rounds: 2 });
    assert.ok(two.spread.flat().every((v) => v !== null));
  } finally {
    await host.close();
  }
});

// ------------------------------------------------------------ row 12

Deno.test("row 12: --sim before a subcommand simulates 4 nodes, a count is still taken", async () => {
  let r = await cli(["--sim", "status"]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual([r.calls[0]?.command, r.calls[0]?.config.simNodes], ["status", 4]);
  r = await cli(["--sim", "enable", "5"]);
  assert.deepEqual([r.calls[0]?.command, r.calls[0]?.extra, r.calls[0]?.config.simNodes], [
    "enable",
    5,
    4,
  ]);
  r = await cli(["--sim", "8", "probe", "--rounds", "3"]);
  assert.deepEqual([r.calls[0]?.command, r.calls[0]?.config.simNodes], ["probe", 8]);
  r = await cli(["--sim", "2", "--json"]);
  assert.deepEqual([r.calls[0]?.command, r.calls[0]?.config.simNodes], ["daemon", 2]);
  assertUsageError(await cli(["--sim", "0", "status"]), /at least 1/);
});

Deno.test("row 12: attachSimCount leaves operands after -- alone", () => {
  assert.deepEqual(attachSimCount(["--sim", "--json"], 4), ["--sim=4", "--json"]);
  assert.deepEqual(attachSimCount(["--sim"], 4), ["--sim=4"]);
  assert.deepEqual(attachSimCount(["--sim", "6"], 4), ["--sim=6"]);
  assert.deepEqual(attachSimCount(["--", "--sim", "x"], 4), ["--", "--sim", "x"]);
});

Deno.test("row 12: the real binary: waspd --sim status prints the simulated state", async () => {
  const r = await runWaspd(["--sim", "status"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Mitosis: /m);
});

// ------------------------------------------------------------ row 13

for (
  const args of [["--sim", "2", "probe", "--rounds", "2"], ["status", "--json"]]
) {
  Deno.test(`row 13: waspd ${args.join(" ")} with its reader gone: quiet, exit 0`, async () => {
    const r = await runWaspd(args, { closeStdout: true });
    assert.equal(r.stderr, "", "nothing on stderr");
    assert.equal(r.code, 0);
  });
}

// ------------------------------------------------------------ row 14

Deno.test("row 14: a bad value with ESC, BEL or a newline is echoed on one sanitized line", async () => {
  for (const value of ["\x1b]0;x\x07", "1\n2", "\x1b[2J"]) {
    const r = await cli(["-u", value]);
    assertUsageError(r, /-u: /);
    const controls = [...r.err.slice(0, -1)].filter((c) => c < " " || c === "\x7f");
    assert.deepEqual(controls, [], `no control byte in ${JSON.stringify(r.err)}`);
    assert.ok(r.err.includes(sanitizeText(value)), r.err);
  }
  // commander's own hint stays on the same line.
  assertUsageError(
    await cli(["--jsn"]),
    /unknown option '--jsn' \(Did you mean --json\?\)/,
  );
});

Deno.test("row 14: the real binary's usage error has no ESC and one line", async () => {
  const r = await runWaspd(["-u", "\x1b]0;x\x07\n"]);
  assert.equal(r.code, EXIT_USAGE);
  assert.ok(!r.stderr.includes("\x1b") && !r.stderr.includes("\x07"), r.stderr);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
});

// ------------------------------------------------------------ row 15

Deno.test("row 15: literal backslash text and a real ESC are shown differently", () => {
  assert.notEqual(sanitizeText("\\x1b[2J"), sanitizeText("\x1b[2J"));
  assert.equal(sanitizeText("\\x1b[2J"), "\\\\x1b[2J");
  assert.equal(sanitizeText("\x1b[2J"), "\\x1b[2J");
});

Deno.test("row 15: the table and the footer write the same escape for the same name", () => {
  const real = "ev\x1bil";
  const text = "fa\\x1bke";
  const snapshot = sampleSnapshot({
    processes: [sampleProcess(0, { name: real }), sampleProcess(1, { name: text })],
    events: [real, text].map((name, i) => ({
      seq: i + 1,
      time: "2026-11-26T22:33:05Z",
      kind: "enable" as const,
      pid: 100 + i,
      message: `replication on for ${label({ pid: 100 + i, startTime: 1, name })}`,
    })),
  });
  const ui = absorbSnapshot(initialUiState(), snapshot, 0);
  const lines = frameText(renderFrame(snapshot, ui, { cols: 140, rows: 50 }, { color: false }));
  const screen = lines.join("\n");
  assert.ok(!screen.includes("\\u001b") && !screen.includes("\x1b"), screen);
  const withReal = lines.filter((l) => l.includes("ev\\x1bil"));
  const withText = lines.filter((l) => l.includes("fa\\\\x1bke"));
  assert.equal(withReal.length, 2, `table row and footer event:\n${screen}`);
  assert.equal(withText.length, 2, `table row and footer event:\n${screen}`);
});

// ------------------------------------------------------------ row 16

Deno.test("row 16: stdout closed (>&-) is told apart from >/dev/null", () => {
  const tty = { target: "/dev/pts/1", flags: 0o100002 };
  // The runtime's stand-in for a closed fd: /dev/null opened read-write.
  assert.equal(stdoutWasClosed({ target: "/dev/null", flags: 0o100002 }, tty), true);
  // A shell's >/dev/null is write-only.
  assert.equal(stdoutWasClosed({ target: "/dev/null", flags: 0o100001 }, tty), false);
  // A daemonizer points stderr at /dev/null too.
  const devNull = { target: "/dev/null", flags: 0o100002 };
  assert.equal(stdoutWasClosed(devNull, devNull), false);
  assert.equal(stdoutWasClosed({ target: "pipe:[12]", flags: 0o1 }, tty), false);
});

Deno.test("row 16: the real binary: --once --json with stdout closed fails on stderr", async () => {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'exec "$0" run -A "$1" --once --json -u 200 >&-', Deno.execPath(), MAIN],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.notEqual(out.code, 0);
  assert.match(err, /stdout is closed/);
  assert.equal(err.trimEnd().split("\n").length, 1, err);
});
