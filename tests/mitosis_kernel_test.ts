import assert from "node:assert/strict";
import { errnoText } from "../src/ffi/errno.ts";
import { PR_GET_PGTABLE_REPL_STEERING, PR_SET_PGTABLE_REPL_STEERING } from "../src/core/prctl.ts";
import { SimMitosisKernel } from "../src/sim/mitosis_kernel.ts";
import { SimMitosisControl } from "../src/sim/mitosis_control.ts";
import { parseMitosisState } from "../src/sys/mitosis/parse.ts";

const FIXTURES = new URL("./fixtures/mitosis-6.4/", import.meta.url);
const fixture = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES));

const WORKER = { pid: 101, name: "mitosis_probe", argv: ["/bin/mitosis_probe"] };

function kernelAt(clock: { t: number }): SimMitosisKernel {
  return new SimMitosisKernel({ nodes: [0, 1, 2, 3], callerPid: 100, now: () => clock.t });
}

/** Steering array a transcript line describes ("0->1 1->0 ...", "invalid node 9"). */
function steeringOf(description: string, last: number[]): number[] {
  const pairs = [...description.matchAll(/(\d+)->(\d+)/g)];
  if (pairs.length > 0) {
    const array = new Array(8).fill(-1);
    for (const [, from, to] of pairs) array[Number(from)] = Number(to);
    return array;
  }
  const invalid = /invalid node (\d+)/.exec(description);
  if (invalid) return [Number(invalid[1]), -1, -1, -1, -1, -1, -1, -1];
  return last;
}

Deno.test("the model replays prctl-transcript.txt: every return value and errno", () => {
  const kernel = kernelAt({ t: 0 });
  let lastSet: number[] = [];
  let lastRead: number[] | null = null;
  let checked = 0;
  const lines = fixture("prctl-transcript.txt").split(/\r?\n/).filter((l) => l !== "");
  for (const line of lines) {
    const call = /^prctl\((\d+), (\S+), (\d+)\) \[(.*)\] = (-?\d+) errno=(\d+)/.exec(line);
    const write = /^write \/proc\/mitosis\/(\w+) <- (\S+): rc=\d+ close=(-?\d+) errno=(.*)$/.exec(
      line,
    );
    const worker = /^### worker pid (\d+)$/.exec(line);
    const steering = /^steering read: (.*)$/.exec(line);
    if (worker) {
      kernel.addProcess({ ...WORKER, pid: Number(worker[1]) });
    } else if (call) {
      const [, option, arg2, arg3, description, rc, errno] = call;
      let outcome;
      if (option === "104" || option === "105") {
        const buffer = new Int32Array(8);
        if (option === "104") {
          lastSet = steeringOf(description ?? "", lastSet);
          buffer.set(lastSet);
        }
        outcome = kernel.prctlSteering(Number(option), buffer, Number(arg3));
        if (option === "105") lastRead = [...buffer];
      } else {
        outcome = kernel.prctl(Number(option), Number(arg2), Number(arg3));
      }
      assert.ok(!("blocked" in outcome), line);
      assert.equal(outcome.rc, Number(rc), line);
      assert.equal(outcome.errno, Number(errno), line);
      checked++;
    } else if (write) {
      const [, file, value, close, errnoText_] = write;
      const outcome = kernel.writeFile(file ?? "", `${value}\n`);
      assert.equal(outcome.rc === 0 ? 0 : -1, Number(close), line);
      if (close !== "0") assert.equal(errnoText(outcome.errno), errnoText_, line);
      checked++;
    } else if (steering) {
      assert.deepEqual(lastRead, steering[1]?.split(" ").map(Number), line);
      checked++;
    } else {
      assert.fail(`unrecognised transcript line: ${line}`);
    }
  }
  assert.equal(checked, lines.length - 1); // all but the "### worker" line
  assert.ok(checked >= 20);
});

Deno.test("rendered initial files are byte-identical to the kernel's", () => {
  const kernel = kernelAt({ t: 0 });
  kernel.addProcess({ pid: 2, name: "sh" });
  const files = kernel.renderFiles();
  for (const name of ["status", "active", "cache", "mode", "inherit", "history"]) {
    assert.equal(files[name], fixture(`initial.${name}`), name);
  }
});

Deno.test("rendered replicated files are byte-identical to the kernel's, and parse back", async () => {
  const clock = { t: 1000 };
  const kernel = kernelAt(clock);
  kernel.addProcess({ pid: 2, name: "sh" });
  kernel.addProcess(WORKER);
  // The fixture's misses came from earlier allocations the model did not see.
  [35, 8, 43, 43].forEach((misses, node) => kernel.cache.get(node)!.misses = misses);
  assert.deepEqual(kernel.prctl(100, 1, 101), { rc: 0, errno: 0 });
  clock.t += 511;
  const files = kernel.renderFiles();
  for (const name of ["status", "active", "cache", "inherit", "history"]) {
    assert.equal(files[name], fixture(`replicated.${name}`), name);
  }
  const state = await new SimMitosisControl(kernel).read();
  assert.deepEqual(state.warnings, []);
  assert.equal(state.replicationActive, true);
  assert.deepEqual(state.active.map((a) => [a.pid, a.name, a.nodes, a.durationMs]), [
    [101, "mitosis_probe", [0, 1, 2, 3], 511],
  ]);
  assert.deepEqual(state.cache.map((r) => r.misses), [35, 8, 43, 43]);
  assert.deepEqual(parseMitosisState(files, state.detection), state);
});

Deno.test("cache writes 100 / -1 / -2 render the fixture tables", () => {
  const kernel = kernelAt({ t: 0 });
  [35, 8, 43, 43].forEach((misses, node) => kernel.cache.get(node)!.misses = misses);
  assert.equal(kernel.renderFiles().cache, fixture("replicated.cache"));
  for (
    const [value, name] of [[100, "cache-after-write-100"], [-1, "cache-after-write-minus1"], [
      -2,
      "cache-after-write-minus2",
    ]] as const
  ) {
    assert.equal(kernel.writeFile("cache", String(value)).rc, 0);
    assert.equal(kernel.renderFiles().cache, fixture(name), name);
  }
  // Top-up semantics: 100 then 60 keeps 100; 150 adds 50 more RETURNS.
  kernel.writeFile("cache", "100");
  kernel.writeFile("cache", "60");
  assert.equal(kernel.cache.get(0)?.cached, 100);
  kernel.writeFile("cache", "150");
  assert.deepEqual(kernel.cache.get(0), { cached: 150, hits: 0, misses: 0, returns: 150 });
  for (const junk of ["0", "-3", "junk", ""]) {
    assert.equal(kernel.writeFile("cache", junk).errno, 22, junk);
  }
});

Deno.test("replicas come from the cache: hits while it has pages, misses after", () => {
  const kernel = new SimMitosisKernel({ nodes: [0, 1], callerPid: 100, pagesPerReplica: 3 });
  kernel.addProcess({ pid: 200, name: "w" });
  kernel.writeFile("cache", "2");
  kernel.prctl(100, 1, 200);
  assert.deepEqual(kernel.cache.get(1), { cached: 0, hits: 2, misses: 1, returns: 2 });
});

Deno.test("mode and inherit writes match the transcript's read-backs", () => {
  const kernel = kernelAt({ t: 0 });
  const readBack = (file: string) => kernel.renderFiles()[file];
  kernel.writeFile("mode", "1");
  assert.equal(readBack("mode"), fixture("mode-after-write-1"));
  assert.match(readBack("status") ?? "", /Auto-enable: ENABLED/);
  kernel.writeFile("mode", "-1");
  assert.equal(readBack("mode"), fixture("mode-after-write-minus1"));
  assert.equal(kernel.writeFile("mode", "junk").errno, 22);
  assert.equal(readBack("mode"), fixture("mode-after-write-junk"));
  kernel.writeFile("inherit", "0");
  assert.equal(readBack("inherit"), fixture("inherit-after-write-0"));
  kernel.writeFile("inherit", "1");
  assert.equal(readBack("inherit"), fixture("inherit-after-write-1"));
  assert.equal(kernel.writeFile("inherit", "x").errno, 22);
});

Deno.test("masks: a single node or an offline node is EINVAL; same mask again is 0", () => {
  const kernel = kernelAt({ t: 0 });
  kernel.addProcess({ pid: 300, name: "w" });
  assert.deepEqual(kernel.prctl(100, 0b0100, 300), { rc: -1, errno: 22 });
  // Node 4 is within the 8 bits the kernel reads, and offline.
  assert.deepEqual(kernel.prctl(100, 0b1_0011, 300), { rc: -1, errno: 22 });
  // Bits from NUMA_NODE_COUNT (8) up are not read: node 8 alone names nothing.
  assert.deepEqual(kernel.prctl(100, 0b1_0000_0000, 300), { rc: -1, errno: 22 });
  assert.deepEqual(kernel.prctl(100, 0b1_0000_0011, 300), { rc: 0, errno: 0 });
  assert.equal(kernel.processes.get(300)?.mask, 0b0011, "bit 8 ignored, as the kernel does");
  kernel.prctl(100, 0, 300);
  assert.deepEqual(kernel.prctl(100, 0b0011, 300), { rc: 0, errno: 0 });
  assert.deepEqual(kernel.prctl(100, 0b0011, 300), { rc: 0, errno: 0 });
  const steering = new Int32Array([2, -1, -1, -1, -1, -1, -1, -1]);
  // Node 2 is online but not among this process's replicas.
  assert.equal(kernel.prctlSteering(PR_SET_PGTABLE_REPL_STEERING, steering, 300).errno, 22);
  const read = new Int32Array(8);
  kernel.prctl(100, 0, 300);
  assert.equal(kernel.prctlSteering(PR_GET_PGTABLE_REPL_STEERING, read, 300).errno, 22);
  assert.equal(kernel.prctlSteering(PR_GET_PGTABLE_REPL_STEERING, read, 999).errno, 3);
});

Deno.test("masks: one online node cannot replicate, not even with 1 (all online nodes)", () => {
  const kernel = new SimMitosisKernel({ nodes: [0], callerPid: 100, now: () => 0 });
  kernel.addProcess({ pid: 300, name: "w" });
  assert.deepEqual(kernel.prctl(100, 1, 300), { rc: -1, errno: 22 });
  assert.deepEqual(kernel.prctl(100, 0, 300), { rc: 0, errno: 0 });
});

Deno.test("a stopped target never answers: stuck after the deadline, completes on SIGCONT", async () => {
  const kernel = kernelAt({ t: 0 });
  kernel.addProcess({ pid: 400, name: "stopped", state: "T" });
  const control = new SimMitosisControl(kernel, () => Promise.resolve());
  const stuck = await control.setReplication({ pid: 400, startTime: 1 }, 1, 50);
  assert.deepEqual(stuck.ok === false && stuck.stuck, true);
  assert.equal(kernel.processes.get(400)?.mask, 0);
  kernel.setProcessState(400, "S");
  assert.equal(kernel.processes.get(400)?.mask, 0b1111);

  // A blocked call whose target exits ends with ESRCH; one that resumes in time succeeds.
  kernel.addProcess({ pid: 401, name: "gone", state: "t" });
  const pending = kernel.prctl(100, 1, 401);
  assert.ok("blocked" in pending);
  const ended = kernel.whenUnblocked(pending.ticket);
  kernel.removeProcess(401);
  assert.deepEqual(await ended, { rc: -1, errno: 3 });

  kernel.addProcess({ pid: 402, name: "resumes", state: "T" });
  let wake: () => void = () => {};
  const slowSleep = () => new Promise<void>((resolve) => wake = resolve);
  const resumed = new SimMitosisControl(kernel, slowSleep).setReplication(
    { pid: 402, startTime: 1 },
    1,
    1000,
  );
  kernel.setProcessState(402, "R");
  assert.deepEqual(await resumed, { ok: true, value: 0 });
  wake();
});

Deno.test("SimMitosisControl maps errnos like LinuxMitosis", async () => {
  const kernel = kernelAt({ t: 0 });
  kernel.addProcess(WORKER);
  const control = new SimMitosisControl(kernel);
  const key = { pid: 101, startTime: 5 };
  assert.deepEqual(await control.setReplication(key, 1, 100), { ok: true, value: 0 });
  assert.deepEqual(await control.getSteering(key), [-1, -1, -1, -1, -1, -1, -1, -1]);
  assert.deepEqual(await control.setSteering(key, [1, 0, 3, 2, -1, -1, -1, -1]), {
    ok: true,
    value: 0,
  });
  assert.deepEqual(await control.getSteering(key), [1, 0, 3, 2, -1, -1, -1, -1]);
  const already = await control.setReplication(key, 3, 100);
  assert.equal(already.ok === false && !already.stuck && already.errno, "EALREADY");
  const missing = await control.setReplication({ pid: 999999, startTime: 1 }, 1, 100);
  assert.equal(missing.ok === false && !missing.stuck && missing.errno, "ESRCH");
  const junk = await control.write("mode", 7);
  assert.equal(junk.ok === false && !junk.stuck && junk.errno, "EINVAL");
  assert.deepEqual(await control.write("cache", 100), { ok: true, value: 100 });
  assert.deepEqual((await control.read()).cache.map((r) => r.cached), [100, 100, 100, 100]);
});
