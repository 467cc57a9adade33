import assert from "node:assert/strict";
import { type CliHandlers, EXIT_USAGE, runCli } from "../src/cli.ts";
import { DEFAULT_EXCLUDED_NAMES, isExcludedName, parseExcludeName } from "../src/config.ts";
import { defaultConfig } from "../src/options.ts";
import { runRecorded } from "./support/cli_run.ts";
import { assertFields } from "./support/fields.ts";

/** An argv from lines of space-separated words (none of these tests needs a space inside one). */
const words = (...lines: string[]): string[] => lines.join(" ").split(" ");

Deno.test("no flags: the daemon with the default settings", async () => {
  const r = await runRecorded([]);
  assert.equal(r.code, 0);
  assert.equal(r.calls.length, 1);
  assert.equal(r.calls[0]?.command, "daemon");
  assert.deepEqual(r.calls[0]?.config, defaultConfig());
});

Deno.test("every option reaches the config", async () => {
  const r = await runRecorded(
    words(
      "-i 250 -u 500 -y 3000 -c 64 --thr-mar 2e6 --thr-dtlb 0.05 --exclude java --exclude post*",
      "--json --once --log /tmp/waspd.log --sim=8 --seed 42 --time-scale 10",
    ),
  );
  assert.equal(r.code, 0, r.err);
  assertFields(r.calls[0]?.config, {
    ptlIntervalMs: 250,
    updateIntervalMs: 500,
    hysteresisMs: 3000,
    cachePages: 64,
    thrMar: 2e6,
    thrDtlb: 0.05,
    exclude: [...DEFAULT_EXCLUDED_NAMES, "java", "post*"],
    json: true,
    once: true,
    logFile: "/tmp/waspd.log",
    simNodes: 8,
    seed: 42,
    timeScale: 10,
  });
});

Deno.test("replication's cost settings: damping, minimum page tables, replica cap", async () => {
  const d = (await runRecorded([])).calls[0]?.config;
  assertFields(d, { dampMaxMs: 600_000, minPteKb: 512, replicaCapMb: null });
  const r = await runRecorded(words("--damp-max 0 --min-pte 2048 --replica-cap 256"));
  assert.equal(r.code, 0, r.err);
  assertFields(r.calls[0]?.config, { dampMaxMs: 0, minPteKb: 2048, replicaCapMb: 256 });
});

Deno.test("long option names work as the short ones", async () => {
  const r = await runRecorded(
    words("--ptl-interval 7 --update-interval 800 --hysteresis 0 --cache-pages 0"),
  );
  assertFields(r.calls[0]?.config, { ptlIntervalMs: 7, updateIntervalMs: 800, hysteresisMs: 0 });
});

Deno.test("the PTL refresh budget: 1 % of a core and 16 MiB by default, both settable", async () => {
  let c = (await runRecorded([])).calls[0]?.config;
  assert.equal(c?.ptlCpuPercent, 1);
  assert.equal(c?.ptlMemoryMb, 16);
  c = (await runRecorded(["--ptl-cpu", "0.5", "--ptl-memory", "64"])).calls[0]?.config;
  assert.equal(c?.ptlCpuPercent, 0.5);
  assert.equal(c?.ptlMemoryMb, 64);
});

Deno.test("--sim without a value simulates 4 nodes", async () => {
  const r = await runRecorded(["--sim"]);
  assert.equal(r.calls[0]?.config.simNodes, 4);
});

const badValues: [string[], RegExp][] = [
  [["-i", "abc"], /-i: 'abc' is not a number/],
  [["-i", "0"], /-i: '0' must be greater than 0 ms/],
  [["-i", "-5"], /must be greater than 0/],
  [["-i", "1.5"], /whole ms/],
  [["-u", "0"], /-u: '0' must be greater than 0 ms/],
  [["-u", "0x10"], /not a number/],
  [["-u", ""], /not a number/],
  [["-y", "-1"], /-y: '-1' must not be negative/],
  [["-y", "soon"], /not a number/],
  [["-c", "-3"], /must not be negative/],
  [["-c", "2.5"], /whole number/],
  [["--thr-mar", "0"], /must be greater than 0/],
  [["--thr-mar", "lots"], /not a number/],
  [["--thr-dtlb", "1.5"], /ratio in \(0, 1\]/],
  [["--thr-dtlb", "0"], /ratio/],
  [["--exclude", ""], /must not be empty/],
  [["--sim=0"], /at least 1/],
  [["--sim=x"], /not a number/],
  [["--seed", "-1"], /must not be negative/],
  [["--time-scale", "0"], /greater than 0/],
  [["--ptl-cpu", "0"], /--ptl-cpu: '0' must be a percentage in \(0, 100\]/],
  [["--ptl-cpu", "101"], /percentage/],
  [["--ptl-cpu", "half"], /not a number/],
  [["--ptl-memory", "0"], /--ptl-memory: '0' must be at least 1 MiB/],
  [["--ptl-memory", "1.5"], /whole number/],
  [["--ptl-memory", "-2"], /must not be negative/],
  [["--damp-max", "-1"], /--damp-max: '-1' must not be negative/],
  [["--damp-max", "1.5"], /whole number/],
  [["--min-pte", "big"], /not a number/],
  [["--replica-cap", "0"], /--replica-cap: '0' must be at least 1 MiB/],
  [["--bogus"], /unknown option '--bogus'/],
  [["-z"], /unknown option '-z'/],
  [["stray"], /unknown command|too many arguments/],
  [["-i"], /argument missing/],
  [["enable"], /missing required argument 'pid'/],
  [["enable", "x"], /PID: 'x' is not a number/],
  [["enable", "0"], /not a process id/],
  [["disable", "-4"], /unknown option|not a process id/],
  [["steer", "1.5"], /not a process id/],
  [["unpin"], /missing required argument 'pid'/],
  [["probe", "--rounds", "many"], /not a number/],
  [["probe", "--buffer-mb", "0"], /greater than 0/],
];

for (const [argv, message] of badValues) {
  Deno.test(`bad value ${JSON.stringify(argv)}: one line on stderr, exit 2`, async () => {
    const r = await runRecorded(argv);
    assert.equal(r.code, EXIT_USAGE);
    assert.equal(r.calls.length, 0, "no handler runs");
    assert.match(r.err, message);
    assert.equal(r.err.trim().split("\n").length, 1, `one line, got: ${r.err}`);
  });
}

Deno.test("--help lists every option and command, exit 0", async () => {
  const r = await runRecorded(["--help"]);
  assert.equal(r.code, 0);
  assert.equal(r.calls.length, 0);
  for (
    const flag of [
      "-i, --ptl-interval",
      "--ptl-cpu",
      "--ptl-memory",
      "-u, --update-interval",
      "-y, --hysteresis",
      "-c, --cache-pages",
      "--thr-mar",
      "--thr-dtlb",
      "--damp-max",
      "--min-pte",
      "--replica-cap",
      "--exclude",
      "--json",
      "--once",
      "--log",
      "--sim",
      "--seed",
      "--time-scale",
      "-h, --help",
      "probe",
      "enable <pid>",
      "disable <pid>",
      "steer <pid>",
      "status",
    ]
  ) assert.ok(r.out.includes(flag), `help mentions ${flag}`);
  assert.equal((await runRecorded(["-h"])).code, 0);
});

Deno.test("subcommands get their arguments and the global flags", async () => {
  let r = await runRecorded(["probe", "--json", "--rounds", "5", "--buffer-mb", "64"]);
  assert.equal(r.calls[0]?.command, "probe");
  assert.equal(r.calls[0]?.config.json, true);
  assert.deepEqual(r.calls[0]?.extra, { rounds: 5, bufferMb: 64 });
  r = await runRecorded(["enable", "1234"]);
  assert.deepEqual([r.calls[0]?.command, r.calls[0]?.extra], ["enable", 1234]);
  r = await runRecorded(["disable", "99"]);
  assert.deepEqual([r.calls[0]?.command, r.calls[0]?.extra], ["disable", 99]);
  r = await runRecorded(["unpin", "8"]);
  assert.deepEqual([r.calls[0]?.command, r.calls[0]?.extra], ["unpin", 8]);
  r = await runRecorded(["steer", "7"]);
  assert.deepEqual([r.calls[0]?.command, r.calls[0]?.extra], ["steer", 7]);
  r = await runRecorded(["status", "--json"]);
  assert.deepEqual([r.calls[0]?.command, r.calls[0]?.config.json], ["status", true]);
  assert.equal((await runRecorded(["probe", "--help"])).code, 0);
});

Deno.test("a handler's exit code is the program's", async () => {
  const handlers = {
    daemon: () => Promise.resolve(3),
  } as unknown as CliHandlers;
  assert.equal(await runCli([], handlers, { out: () => {}, err: () => {} }), 3);
});

Deno.test("exclusion patterns: exact names and * globs", () => {
  assert.ok(isExcludedName("sshd", DEFAULT_EXCLUDED_NAMES));
  assert.ok(isExcludedName("systemd-journal", DEFAULT_EXCLUDED_NAMES));
  assert.ok(isExcludedName("tmux: server", DEFAULT_EXCLUDED_NAMES));
  assert.ok(!isExcludedName("stream", DEFAULT_EXCLUDED_NAMES));
  assert.ok(!isExcludedName("sshdx", ["sshd"]));
  assert.ok(isExcludedName("a.b", ["a.*"]));
  assert.ok(!isExcludedName("axb", ["a.b"]));
});

Deno.test("--version prints deno.json's version; subcommands inherit the help option", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const r = await runRecorded(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.out.trim(), denoJson.version);
  const sub = await runRecorded(["probe", "--help"]);
  assert.match(sub.out, /-h, --help +show this help/);
  assert.equal(sub.err, "");
});

Deno.test("exclusion globs: ? and classes, every built-in pattern matches its own kind", () => {
  assert.ok(isExcludedName("vim", ["v?m"]));
  assert.ok(isExcludedName("worker-7", ["worker-[0-9]"]));
  assert.ok(!isExcludedName("worker-x", ["worker-[0-9]"]));
  assert.ok(isExcludedName("(sd-pam)", DEFAULT_EXCLUDED_NAMES));
  assert.ok(isExcludedName("dbus-broker-lau", DEFAULT_EXCLUDED_NAMES));
  for (const p of DEFAULT_EXCLUDED_NAMES) {
    assert.ok(isExcludedName(p.replace("*", "-x"), DEFAULT_EXCLUDED_NAMES), p);
  }
});

Deno.test("--exclude: a literal name longer than comm's 15 bytes is refused, a glob is not", async () => {
  assert.equal(parseExcludeName("fifteen-bytes-x"), "fifteen-bytes-x");
  assert.throws(() => parseExcludeName("sixteen-bytes-xx"), /16 bytes.*at most 15/);
  // UTF-8 bytes, not characters: 8 two-byte letters are 16 bytes.
  assert.throws(() => parseExcludeName("пппппппп"), /16 bytes/);
  assert.equal(parseExcludeName("a-very-long-prefix-*"), "a-very-long-prefix-*");
  const r = await runRecorded(["--exclude", "my-long-process-name"]);
  assert.equal(r.code, EXIT_USAGE);
  assert.match(r.err, /could never match/);
});

Deno.test("--headless and --metrics reach the config; a bare port binds loopback", async () => {
  const r = await runRecorded(["--headless", "--metrics", "9110", "--log", "/tmp/x.jsonl"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.calls[0]?.config.headless, true);
  assert.deepEqual(r.calls[0]?.config.metrics, { hostname: "127.0.0.1", port: 9110 });
  assert.equal(r.calls[0]?.config.logFile, "/tmp/x.jsonl");
  const tui = await runRecorded(["--metrics", "[::1]:9110"]);
  assert.deepEqual(tui.calls[0]?.config.metrics, { hostname: "::1", port: 9110 });
  const json = await runRecorded(["--json", "--metrics", "0.0.0.0:9110"]);
  assert.deepEqual(json.calls[0]?.config.metrics, { hostname: "0.0.0.0", port: 9110 });
});

Deno.test("--headless and --metrics misuse: one line, exit 2, nothing run", async () => {
  for (
    const argv of [
      ["--headless", "--json"],
      ["--headless", "--once"],
      ["--metrics", "9110", "--once"],
      ["--metrics", "70000"],
      ["--metrics", "::1:9110"],
      ["--metrics"],
    ]
  ) {
    const r = await runRecorded(argv);
    assert.equal(r.code, EXIT_USAGE, argv.join(" "));
    assert.equal(r.calls.length, 0);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
  }
});
