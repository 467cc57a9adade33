/**
 * LinuxMitosis on this machine (a stock kernel: no Mitosis) and on fixture
 * trees. The prctl(100) path is the real one: a child process, real FFI.
 */
import assert from "node:assert/strict";
import {
  interpretChildOutput,
  LinuxMitosis,
  prctlChildInvocation,
} from "../src/sys/mitosis/linux.ts";
import { libc } from "../src/ffi/libc.ts";
import { parsePrctlChildArgs, PRCTL_CHILD_FLAG } from "../src/sys/mitosis/prctl_child.ts";

// Open this thread's libc before any test: the resource sanitizer would
// otherwise count the (deliberately never closed) library as a test's leak.
libc();

const FIXTURES = new URL("./fixtures/mitosis-6.4/", import.meta.url);
const STOCK_KERNEL = (() => {
  try {
    Deno.statSync("/proc/mitosis");
    return false;
  } catch {
    return true;
  }
})();

/** A proc root whose mitosis/ holds the fixture set `prefix` (initial / replicated). */
async function fixtureRoot(prefix: string): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "waspd-mitosis-" });
  await Deno.mkdir(`${root}/mitosis`);
  for (const name of ["status", "active", "cache", "mode", "inherit", "history"]) {
    const source = new URL(`${prefix}.${name}`, FIXTURES);
    const fallback = new URL(`initial.${name}`, FIXTURES);
    let text: string;
    try {
      text = await Deno.readTextFile(source);
    } catch {
      text = await Deno.readTextFile(fallback);
    }
    await Deno.writeTextFile(`${root}/mitosis/${name}`, text);
  }
  return root;
}

Deno.test({
  name: "real: detection on this stock kernel says unavailable, with the reason",
  ignore: !STOCK_KERNEL,
  async fn() {
    const detection = await new LinuxMitosis("/proc").detect();
    assert.equal(detection.present, false);
    assert.equal(detection.variant, null);
    assert.match(detection.reason ?? "", /no \/proc\/mitosis and prctl\(101\) gives EINVAL/);
    const state = await new LinuxMitosis("/proc").read();
    assert.deepEqual([state.mode, state.inherit, state.cache, state.active], [null, null, [], []]);
  },
});

Deno.test({
  name: "real: prctl(100) through the child process answers EINVAL on a stock kernel",
  ignore: !STOCK_KERNEL,
  async fn() {
    const mitosis = new LinuxMitosis("/proc");
    // Our own child's pid: a real, running target that the call cannot harm here.
    const result = await mitosis.setReplication({ pid: Deno.pid, startTime: 0 }, 1, 20_000);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && !result.stuck && result.errno, "EINVAL");
    assert.match(!result.ok ? result.message : "", /prctl\(100, 0x1, pid \d+\) failed: EINVAL/);
    assert.equal(await mitosis.drain(5000), 0);
  },
});

Deno.test("real: a call that overruns the deadline returns stuck promptly", async () => {
  const mitosis = new LinuxMitosis("/proc", { childTestSleepMs: 60_000 });
  const started = performance.now();
  const result = await mitosis.setReplication({ pid: Deno.pid, startTime: 0 }, 1, 1500);
  const waited = performance.now() - started;
  assert.equal(result.ok === false && result.stuck, true);
  assert.match(!result.ok ? result.message : "", /did not return within 1500 ms/);
  // Returned at the deadline, not after the child's 60 s block.
  assert.ok(waited < 30_000, `waited ${waited} ms`);
  // SIGKILL reaches a child that is not in D state: it is reaped.
  assert.equal(await mitosis.drain(10_000), 0);
});

Deno.test("real: steering calls on a stock kernel give EINVAL, not a throw", async () => {
  const mitosis = new LinuxMitosis("/proc");
  const set = await mitosis.setSteering({ pid: Deno.pid, startTime: 0 }, [
    1,
    0,
    -1,
    -1,
    -1,
    -1,
    -1,
    -1,
  ]);
  assert.equal(!set.ok && !set.stuck && set.errno, STOCK_KERNEL ? "EINVAL" : set.ok);
  const get = await mitosis.getSteering({ pid: Deno.pid, startTime: 0 });
  assert.ok(!Array.isArray(get) || !STOCK_KERNEL);
  const short = await mitosis.setSteering({ pid: Deno.pid, startTime: 0 }, [1, 0]);
  assert.equal(!short.ok && !short.stuck && short.errno, "EINVAL");
});

Deno.test("guards: pid 0 / 1 and negative masks are refused without a call", async () => {
  const mitosis = new LinuxMitosis("/proc");
  for (const [pid, mask] of [[0, 1], [1, 1], [Deno.pid, -1]] as const) {
    const result = await mitosis.setReplication({ pid, startTime: 0 }, mask, 100);
    assert.equal(!result.ok && !result.stuck && result.errno, "EINVAL");
  }
});

Deno.test("a fixture tree reads as a 6.4 kernel; writes go to the files", async () => {
  const root = await fixtureRoot("replicated");
  try {
    const mitosis = new LinuxMitosis(root, { probe: () => Promise.resolve({ ok: true, mask: 0 }) });
    const state = await mitosis.read();
    assert.equal(state.detection.variant, "wasp-6.4");
    assert.deepEqual(state.warnings, []);
    assert.deepEqual(state.active.map((a) => a.pid), [101]);
    assert.deepEqual(await mitosis.write("mode", 1), { ok: true, value: 1 });
    assert.equal(await Deno.readTextFile(`${root}/mitosis/mode`), "1\n");
    assert.equal((await mitosis.read()).mode, 1);
    const bad = await mitosis.write("cache", 1.5);
    assert.equal(!bad.ok && !bad.stuck && bad.errno, "EINVAL");
    await Deno.remove(`${root}/mitosis/inherit`);
    const missing = await mitosis.write("inherit", 1);
    assert.equal(!missing.ok && !missing.stuck && missing.errno, "ENOENT");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("child invocation: deno run in development, the binary itself when compiled", () => {
  const dev = prctlChildInvocation(
    false,
    "/usr/bin/deno",
    "file:///src/sys/mitosis/prctl_child.ts",
    [
      "set-replication",
      "1",
      "42",
    ],
  );
  assert.deepEqual(dev, {
    command: "/usr/bin/deno",
    args: [
      "run",
      "-A",
      "--no-config",
      "/src/sys/mitosis/prctl_child.ts",
      "set-replication",
      "1",
      "42",
    ],
  });
  const compiled = prctlChildInvocation(true, "/usr/local/bin/waspd", "file:///tmp/x.ts", ["a"]);
  assert.deepEqual(compiled, { command: "/usr/local/bin/waspd", args: [PRCTL_CHILD_FLAG, "a"] });
});

Deno.test("child arguments and output are checked", () => {
  assert.deepEqual(parsePrctlChildArgs(["set-replication", "15", "42"]), {
    mask: 15,
    pid: 42,
    testSleepMs: 0,
  });
  assert.deepEqual(parsePrctlChildArgs(["set-replication", "1", "42", "--test-sleep-ms", "5"]), {
    mask: 1,
    pid: 42,
    testSleepMs: 5,
  });
  for (
    const bad of [[], ["x", "1", "2"], ["set-replication", "-1", "2"], [
      "set-replication",
      "1",
      "2",
      "extra",
    ]]
  ) {
    assert.equal(typeof parsePrctlChildArgs(bad), "string", bad.join(" "));
  }
  assert.deepEqual(interpretChildOutput("c", '{"rc":0,"errno":0,"code":"OK"}\n', "", 0), {
    ok: true,
    value: 0,
  });
  const already = interpretChildOutput("c", '{"rc":-1,"errno":114,"code":"EALREADY"}\n', "", 0);
  assert.equal(!already.ok && !already.stuck && already.errno, "EALREADY");
  const crashed = interpretChildOutput("c", "", "error: Module not found\n", 1);
  assert.equal(!crashed.ok && !crashed.stuck && crashed.errno, "ECHILD");
  assert.match(!crashed.ok ? crashed.message : "", /Module not found/);
});

Deno.test("a write that fails after open reports the write's errno and closes the fd", async () => {
  const root = await fixtureRoot("replicated");
  try {
    // /dev/full opens fine and answers every write(2) with ENOSPC.
    await Deno.remove(`${root}/mitosis/cache`);
    await Deno.symlink("/dev/full", `${root}/mitosis/cache`);
    const mitosis = new LinuxMitosis(root, { probe: () => Promise.resolve({ ok: true, mask: 0 }) });
    const openFds = () => [...Deno.readDirSync("/proc/self/fd")].length;
    const before = openFds();
    const full = await mitosis.write("cache", 100);
    assert.equal(!full.ok && !full.stuck && full.errno, "ENOSPC");
    assert.equal(openFds(), before, "the fd opened for the write was closed");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
