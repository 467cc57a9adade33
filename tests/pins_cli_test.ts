/**
 * The pins file attacked, through the real binary
 * (`deno run -A main.ts --state-dir DIR ...`, so /run/waspd is never
 * touched): a FIFO, links to /dev/zero and /etc/shadow, a device, garbage,
 * an unpinned pid and a kernel thread. Every run is bounded by a timeout: a
 * hang fails the test instead of hanging it.
 */
import assert from "node:assert/strict";
import { canMknod, inTempDir } from "./support/scratch.ts";
import { runUntil, runWaspd } from "./support/waspd.ts";
import { FilePins } from "../src/sys/pins.ts";

const FIXTURE_PROC = new URL("./fixtures/proc-procs", import.meta.url).pathname;
const waspd = runWaspd;
const inStateDir = (use: (dir: string) => Promise<void>) => inTempDir("waspd-pins-cli-", use);

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

/** A process of our own to pin: `sleep`, with its start time from /proc. */
async function withSleeper(
  use: (pid: number, startTime: number) => Promise<void>,
): Promise<void> {
  const child = new Deno.Command("sleep", { args: ["60"], stdin: "null", stdout: "null" }).spawn();
  try {
    const stat = Deno.readTextFileSync(`/proc/${child.pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    await use(child.pid, Number(fields[19]));
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

const EXIT_NOT_PINNED = 3;

Deno.test("unpin with a FIFO as pins.json: no hang; the FIFO is set aside; 'not pinned'", () =>
  inStateDir((dir) =>
    withSleeper(async (pid) => {
      assert.ok(
        (await new Deno.Command("mkfifo", { args: [`${dir}/pins.json`] }).output()).success,
      );
      const run = await waspd(["--state-dir", dir, "unpin", String(pid)]);
      assert.equal(run.code, EXIT_NOT_PINNED, run.stderr);
      assert.match(run.stderr, /pins\.json: not a regular file \(a FIFO\); moved aside to /);
      assert.match(run.stderr, new RegExp(`waspd unpin: ${pid} \\(sleep\\) is not pinned`));
      const left = names(dir);
      assert.equal(left.length, 1, "no new pins.json");
      assert.match(left[0] ?? "", /^pins\.json\.bad-\d{8}T\d{6}Z$/);
      assert.ok(Deno.lstatSync(`${dir}/${left[0]}`).isFifo);
    })
  ));

Deno.test("links to /dev/zero and /etc/shadow: set aside at once, nothing of the target shown", () =>
  inStateDir((dir) =>
    withSleeper(async (pid) => {
      for (const target of ["/dev/zero", "/etc/shadow"]) {
        Deno.symlinkSync(target, `${dir}/pins.json`);
        const run = await waspd(["--state-dir", dir, "unpin", String(pid)]);
        assert.equal(run.code, EXIT_NOT_PINNED, run.stderr);
        assert.match(run.stderr, /not a regular file \(a symbolic link\); moved aside/);
        assert.ok(
          !/root:/.test(run.stdout + run.stderr) && !(run.stdout + run.stderr).includes("\0"),
        );
        assert.throws(() => Deno.lstatSync(`${dir}/pins.json`), Deno.errors.NotFound);
        for (const name of names(dir)) Deno.removeSync(`${dir}/${name}`);
      }
    })
  ));

Deno.test({
  name: "pins.json is a device node (/dev/zero's numbers): never read, set aside",
  ignore: !canMknod(),
  fn: () =>
    inStateDir((dir) =>
      withSleeper(async (pid) => {
        const made = await new Deno.Command("mknod", { args: [`${dir}/pins.json`, "c", "1", "5"] })
          .output();
        assert.ok(made.success);
        const run = await waspd(["--state-dir", dir, "unpin", String(pid)]);
        assert.equal(run.code, EXIT_NOT_PINNED, run.stderr);
        assert.match(run.stderr, /not a regular file \(a character device\); moved aside/);
        const [aside] = names(dir);
        assert.ok(Deno.lstatSync(`${dir}/${aside}`).isCharDevice);
      })
    ),
});

Deno.test("garbage, empty, malformed pins.json: unpin warns and keeps the old file aside", () =>
  inStateDir((dir) =>
    withSleeper(async (pid) => {
      for (const text of ["\x1b]52;c;aGk=\x07 garbage", "", '{"pins":[{"pid":"root"}]}']) {
        Deno.writeTextFileSync(`${dir}/pins.json`, text);
        const run = await waspd(["--state-dir", dir, "unpin", String(pid)]);
        assert.equal(run.code, EXIT_NOT_PINNED, run.stderr);
        assert.match(run.stderr, /waspd unpin: pins: .*pins\.json: .*; moved aside to /);
        assert.ok(!run.stderr.includes("\x1b"), "no byte of the content is echoed");
        assert.doesNotMatch(run.stderr, /garbage|root/, "the content is never echoed");
        const aside = names(dir).filter((n) => n.startsWith("pins.json.bad-"));
        assert.equal(aside.length, 1);
        assert.equal(Deno.readTextFileSync(`${dir}/${aside[0]}`), text, "kept as it was");
        Deno.removeSync(`${dir}/${aside[0]}`);
      }
    })
  ));

Deno.test("unpin of a pinned process rewrites the file without it and without dead pins", () =>
  inStateDir((dir) =>
    withSleeper(async (pid, startTime) => {
      const since = "2026-11-30T12:00:00.000Z";
      Deno.writeTextFileSync(
        `${dir}/pins.json`,
        JSON.stringify({
          version: 1,
          pins: [
            { pid, start_time: startTime, state: "on", since },
            // Same pid, another start time: a process that is gone (pid reuse).
            { pid, start_time: startTime + 1, state: "off", since },
            { pid: 4_000_000, start_time: 1, state: "on", since },
          ],
        }),
      );
      const run = await waspd(["--state-dir", dir, "unpin", String(pid)]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, `${pid} (sleep) unpinned\n`);
      assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${dir}/pins.json`)).pins, []);
    })
  ));

Deno.test("unpin of a pid that is not pinned: 'not pinned', exit 3, no file created", () =>
  inStateDir(async (dir) => {
    const run = await waspd(["--proc-root", FIXTURE_PROC, "--state-dir", dir, "unpin", "1200"]);
    assert.equal(run.code, EXIT_NOT_PINNED);
    assert.equal(run.stderr, "waspd unpin: 1200 (stress-ng) is not pinned\n");
    assert.deepEqual(names(dir), []);
  }));

Deno.test("unpin 2 (kthreadd) is refused like enable refuses kernel threads; no file created", () =>
  inStateDir(async (dir) => {
    const run = await waspd(["--proc-root", FIXTURE_PROC, "--state-dir", dir, "unpin", "2"]);
    assert.equal(run.code, 1);
    assert.equal(
      run.stderr,
      "waspd unpin: 2 (kthreadd) is a kernel thread: it has no page tables of its own\n",
    );
    assert.deepEqual(names(dir), []);
  }));

/** Start the daemon (JSON lines), collect `ticks` snapshots, SIGTERM it. */
function daemonTicks(args: string[], ticks: number) {
  return runUntil<{ events: { kind: string; message: string }[] }>(
    ["--json", "-u", "100", "-i", "600000", ...args],
    (_, all) => all.length === ticks,
    "SIGTERM",
  );
}

Deno.test("the daemon with a FIFO pins file ticks, reports it once, and stops on SIGTERM", () =>
  inStateDir(async (dir) => {
    assert.ok((await new Deno.Command("mkfifo", { args: [`${dir}/pins.json`] }).output()).success);
    const run = await daemonTicks(["--state-dir", dir], 5);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.snapshots.length >= 5);
    const pinEvents = run.snapshots.flatMap((s) => s.events).filter((e) => /pins/.test(e.message));
    assert.equal(pinEvents.length, 1, JSON.stringify(pinEvents));
    assert.match(pinEvents[0]?.message ?? "", /a FIFO\); moved aside to /);
  }));

Deno.test("the daemon with pins.json -> /etc/shadow: one event, no byte of the target anywhere", () =>
  inStateDir(async (dir) => {
    Deno.symlinkSync("/etc/shadow", `${dir}/pins.json`);
    const log = `${dir}/events.log`;
    const run = await daemonTicks(["--state-dir", dir, "--log", log], 4);
    assert.equal(run.code, 0, run.stderr);
    const all = JSON.stringify(run.snapshots) + run.stderr + Deno.readTextFileSync(log);
    assert.doesNotMatch(all, /root:/);
    const pinEvents = run.snapshots.flatMap((s) => s.events).filter((e) => /pins/.test(e.message));
    assert.equal(pinEvents.length, 1);
  }));

/** This host makes waspd advisory: not root, or no Mitosis kernel. */
function advisoryHost(): boolean {
  try {
    Deno.statSync("/proc/mitosis");
  } catch {
    return true;
  }
  return Deno.uid() !== 0;
}

Deno.test({
  name:
    "advisory and --once daemons leave a dead process's pin in pins.json (only the enforcing one prunes)",
  ignore: !advisoryHost(),
  fn: () =>
    inStateDir(async (dir) => {
      const path = `${dir}/pins.json`;
      // A pin of a process that is gone: the waspd holding the record would drop it at start.
      await new FilePins(path).set({ pid: 4_194_303, startTime: 1 }, "on", Date.now());
      const before = await Deno.readFile(path);

      const once = await waspd(["--once", "--json", "-u", "200", "--state-dir", dir]);
      assert.equal(once.code, 0, once.stderr);
      assert.equal(
        JSON.parse(once.stdout).capabilities.mode,
        "advisory",
        "this host cannot enforce",
      );
      assert.deepEqual(await Deno.readFile(path), before, "--once: pins.json untouched");

      const running = await runUntil<unknown>(
        ["--json", "-u", "200", "--state-dir", dir],
        (_, all) => all.length >= 2,
        "SIGTERM",
      );
      assert.equal(running.code, 0, running.stderr);
      assert.deepEqual(await Deno.readFile(path), before, "advisory daemon: pins.json untouched");
    }),
});
