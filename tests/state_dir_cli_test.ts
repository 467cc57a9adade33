/**
 * The state directory attacked through the real binary (`deno run -A main.ts
 * --sim --state-dir DIR`; `--sim` is the enforcing daemon here, the real
 * host without Mitosis the advisory one): something other than a regular
 * file at `waspd.lock` stops every waspd with one line and exit 2, never a
 * hang and never a daemon running without its lock; a directory name holding
 * escape codes never reaches stderr raw. Each run is bounded: a hang is
 * killed and fails the test.
 */
import assert from "node:assert/strict";
import { inTempDir } from "./support/scratch.ts";
import { runUntil, startWaspd } from "./support/waspd.ts";

const SIM = ["--sim", "--json", "--time-scale", "50", "-u", "500", "-i", "600000", "-y", "1000"];
/** Far more than a refusal takes (a Deno start): a run still going then hangs. */
const BOUND_MS = 20_000;
const EXIT_USAGE = 2;

/** Run to the end; past BOUND_MS, SIGKILL (a waspd hung in open(2) ignores SIGTERM). */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = startWaspd(args, { signal: null });
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone meanwhile */ }
  }, BOUND_MS);
  try {
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    return { code: status.code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

async function mkfifo(path: string): Promise<void> {
  assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success);
}

const inStateDir = (use: (dir: string) => Promise<void>) => inTempDir("waspd-state-cli-", use);

for (
  const [what, extra] of [
    ["enforcing", []],
    ["--once", ["--once"]],
  ] as const
) {
  Deno.test(`a FIFO at waspd.lock: exit 2 with one line, no hang (${what})`, () =>
    inStateDir(async (dir) => {
      await mkfifo(`${dir}/waspd.lock`);
      const r = await run([...SIM, ...extra, "--state-dir", dir]);
      assert.equal(r.code, EXIT_USAGE, r.stderr);
      assert.match(r.stderr, /^waspd: \S+\/waspd\.lock is a FIFO: waspd cannot lock it.*\n$/);
      assert.equal(r.stdout, "", "refused before its first tick");
      assert.ok(Deno.lstatSync(`${dir}/waspd.lock`).isFifo, "left for the operator");
    }));
}

Deno.test("a FIFO at waspd.lock: the advisory daemon on the real host refuses too", () =>
  inStateDir(async (dir) => {
    await mkfifo(`${dir}/waspd.lock`);
    const r = await run(["--once", "--json", "-u", "200", "--state-dir", dir]);
    assert.equal(r.code, EXIT_USAGE, r.stderr);
    assert.match(r.stderr, /waspd\.lock is a FIFO: waspd cannot lock it/);
  }));

Deno.test("a symlinked or directory waspd.lock: refused, nothing written through the link", () =>
  inStateDir(async (dir) => {
    const target = `${dir}/target`;
    Deno.writeTextFileSync(target, "");
    for (
      const [make, kind] of [
        [() => Deno.symlinkSync(target, `${dir}/waspd.lock`), "a symbolic link"],
        [() => Deno.mkdirSync(`${dir}/waspd.lock`), "a directory"],
      ] as const
    ) {
      make();
      for (const extra of [[], ["--once"]]) {
        const r = await run([...SIM, ...extra, "--state-dir", dir]);
        assert.equal(r.code, EXIT_USAGE, r.stderr);
        assert.match(r.stderr, new RegExp(`^waspd: \\S+/waspd\\.lock is ${kind}: .*\\n$`));
      }
      Deno.removeSync(`${dir}/waspd.lock`);
    }
    assert.equal(Deno.readTextFileSync(target), "", "no pid written through the link");
  }));

Deno.test("escape codes in --state-dir never reach stderr raw", () =>
  inStateDir(async (base) => {
    const dir = `${base}/evil\x1b[2J\x1b]0;pwned\x07dir`;
    Deno.mkdirSync(dir);
    // A bad saved machine: the simulated host's start-up warning names the file.
    Deno.writeTextFileSync(`${dir}/sim-kernel.json`, "{");
    const warned = await run([...SIM, "--once", "--state-dir", dir]);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /simulated state: .*evil\\x1b\[2J\\x1b\]0;pwned\\x07dir/);
    // The refusal names the lock file.
    await mkfifo(`${dir}/waspd.lock`);
    const refused = await run([...SIM, "--state-dir", dir]);
    assert.equal(refused.code, EXIT_USAGE, refused.stderr);
    assert.match(refused.stderr, /evil\\x1b\[2J/);
    // A manual command's warning names the pins file in it.
    Deno.writeTextFileSync(`${dir}/pins.json`, "{");
    const unpin = await run(["--state-dir", dir, "unpin", String(Deno.pid)]);
    assert.match(unpin.stderr, /pins: \S+evil\\x1b\[2J.*not JSON; moved aside/);
    for (const stderr of [warned.stderr, refused.stderr, unpin.stderr]) {
      assert.ok(!hasControl(stderr), JSON.stringify(stderr));
    }
  }));

/** A control character other than the newline ending each line. */
function hasControl(text: string): boolean {
  return [...text].some((c) => c !== "\n" && (c < " " || c === "\x7f"));
}

interface Snapshot {
  daemon: { replicated: number };
  events: { kind: string; message: string }[];
}

Deno.test({
  name: "a --state-dir owned by another user: warned, nothing adopted from it, the daemon runs",
  ignore: Deno.uid() !== 0, // chown
  fn: () =>
    inStateDir(async (dir) => {
      const args = [...SIM, "--state-dir", dir];
      const killed = await runUntil<Snapshot>(args, (s) => s.daemon.replicated >= 1, "SIGKILL");
      assert.equal(killed.code, 137);
      Deno.chownSync(dir, 65534, 65534);
      const next = await runUntil<Snapshot>(args, () => true, "SIGTERM");
      assert.equal(next.code, 0, next.stderr);
      const messages = next.snapshots.flatMap((s) => s.events).map((e) => e.message);
      assert.ok(
        messages.some((m) => /state directory .* is owned by uid 65534, not root/.test(m)),
        messages.join("\n"),
      );
      assert.ok(!messages.some((m) => /^ownership: (adopted|turning off|forgot)/.test(m)));
    }),
});
