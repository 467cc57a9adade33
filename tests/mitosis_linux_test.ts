/**
 * LinuxMitosis on this machine (a stock kernel: no Mitosis) and on fixture
 * trees. The prctl(100) path is the real one: the helper process, real FFI.
 */
import assert from "node:assert/strict";
import { LinuxMitosis } from "../src/sys/mitosis/linux.ts";
import { libc } from "../src/ffi/libc.ts";
import { STOCK_KERNEL } from "./stock_kernel.ts";
import { before } from "./support/poll.ts";
import { sleepyHelper } from "./support/sleepy_prctl_helper.ts";
import {
  helperInvocation,
  parseMessage,
  parseRequest,
  PRCTL_HELPER_FLAG,
  resultOf,
} from "../src/sys/mitosis/prctl_protocol.ts";

// Open this thread's libc before any test: the resource sanitizer would
// otherwise count the (deliberately never closed) library as a test's leak.
libc();

const FIXTURES = new URL("./fixtures/mitosis-6.4/", import.meta.url);

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
  name: "real: prctl(100) through the helper process answers EINVAL on a stock kernel",
  ignore: !STOCK_KERNEL,
  async fn() {
    const mitosis = new LinuxMitosis("/proc");
    // Our own pid: a real, running target, and a stock kernel refuses the call before touching it.
    const result = await mitosis.setReplication({ pid: Deno.pid, startTime: 0 }, 1, 20_000);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && !result.stuck && result.errno, "EINVAL");
    assert.match(!result.ok ? result.message : "", /prctl\(100, 0x1, pid \d+\) failed: EINVAL/);
    assert.equal(await mitosis.drain(5000), 0);
  },
});

Deno.test("real: a call that overruns the deadline returns stuck promptly", async () => {
  const helperCallMs = 60_000;
  const mitosis = new LinuxMitosis("/proc", { helper: { launch: sleepyHelper(helperCallMs) } });
  // Ordering, not speed: the answer comes while the helper's call still blocks.
  const answer = await before(
    mitosis.setReplication({ pid: Deno.pid, startTime: 0 }, 1, 1500),
    helperCallMs,
  );
  if (answer === "not yet") assert.fail("the call waited for the helper's block to end");
  const result = answer.value;
  assert.equal(result.ok === false && result.stuck, true);
  assert.match(!result.ok ? result.message : "", /did not return within 1500 ms/);
  // SIGKILL reaches a helper that is not in D state: it is reaped.
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

Deno.test("helper invocation: deno run in development, the binary itself when compiled", () => {
  const dev = helperInvocation(false, "/usr/bin/deno", "file:///src/sys/mitosis/prctl_helper.ts");
  assert.deepEqual(dev, {
    command: "/usr/bin/deno",
    args: ["run", "-A", "--no-config", "/src/sys/mitosis/prctl_helper.ts"],
  });
  const compiled = helperInvocation(true, "/usr/local/bin/waspd", "file:///tmp/x.ts");
  assert.deepEqual(compiled, { command: "/usr/local/bin/waspd", args: [PRCTL_HELPER_FLAG] });
});

Deno.test("helper requests and answers are checked", () => {
  assert.deepEqual(parseRequest('{"id":3,"mask":15,"pid":42}'), { id: 3, mask: 15, pid: 42 });
  for (
    const bad of [
      "",
      "[]",
      '{"id":1,"mask":-1,"pid":42}',
      '{"id":1,"mask":1,"pid":1}',
      '{"id":1,"mask":1,"pid":0}',
      '{"id":1,"mask":1}',
    ]
  ) {
    assert.equal(typeof parseRequest(bad), "string", bad);
  }
  assert.deepEqual(parseMessage('{"type":"ready","pid":7}'), { type: "ready", pid: 7 });
  assert.equal(parseMessage("Warning: something"), null);
  assert.equal(parseMessage('{"type":"done","id":1}'), null);
  const done = (rc: number, errno: number, code: string) => {
    const m = parseMessage(JSON.stringify({ type: "done", id: 1, rc, errno, code }));
    assert.ok(m?.type === "done");
    return resultOf("c", m);
  };
  assert.deepEqual(done(0, 0, "OK"), { ok: true, value: 0 });
  const already = done(-1, 114, "EALREADY");
  assert.equal(!already.ok && !already.stuck && already.errno, "EALREADY");
  const failed = resultOf("c", { type: "failed", id: 1, message: "Module not found" });
  assert.equal(!failed.ok && !failed.stuck && failed.errno, "ECHILD");
  assert.match(!failed.ok ? failed.message : "", /Module not found/);
});

Deno.test("real: a helper stuck in its call does not keep waspd from exiting", async () => {
  // A program that makes one call that overruns (its helper waits 30 s
  // before the call) and returns without stopping its helper: it must exit at once.
  const HELPER_CALL_MS = 30_000;
  const script = await Deno.makeTempFile({ prefix: "waspd-stuck-exit-", suffix: ".ts" });
  try {
    const linux = new URL("../src/sys/mitosis/linux.ts", import.meta.url).href;
    const sleepy = new URL("./support/sleepy_prctl_helper.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { LinuxMitosis } from "${linux}";
import { sleepyHelper } from "${sleepy}";
const launch = sleepyHelper(${HELPER_CALL_MS});
const mitosis = new LinuxMitosis("/proc", { helper: { launch } });
const result = await mitosis.setReplication({ pid: Deno.pid, startTime: 0 }, 1, 300);
console.log(JSON.stringify({ stuck: !result.ok && result.stuck }));
`,
    );
    // Ordering, not speed: the program must be gone while its helper's call
    // still blocks (the helper exits by itself when the call is over).
    const exited = await before(
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-config", script],
        stdout: "piped",
        stderr: "piped",
      }).output(),
      HELPER_CALL_MS,
    );
    if (exited === "not yet") assert.fail("the program was held until its helper's call was over");
    const run = exited.value;
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, stderr);
    assert.equal(new TextDecoder().decode(run.stdout).trim(), '{"stuck":true}');
  } finally {
    await Deno.remove(script);
  }
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
