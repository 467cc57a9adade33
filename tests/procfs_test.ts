import assert from "node:assert/strict";
import { libc } from "../src/ffi/libc.ts";
import {
  confirmProcess,
  listProcesses,
  listThreadIds,
  readProcess,
  readProcessDetailed,
  scanProcesses,
} from "../src/sys/procfs.ts";
import { parseStat } from "../src/sys/proc_stat.ts";
import { sleepAsNobody } from "./support/command.ts";
import { assertFields } from "./support/fields.ts";

// procfs reads through libc, which stays open for the process (by design): opened here,
// outside any test, so the resource sanitizer does not pin it on one.
libc();

const PROCS = new URL("./fixtures/proc-procs", import.meta.url).pathname;
/** USER_HZ on x86-64 Linux: the unit of stat field 22. */
const CLOCK_TICKS_PER_SECOND = 100;

async function readUptimeSeconds(): Promise<number> {
  return Number((await Deno.readTextFile("/proc/uptime")).split(" ")[0]);
}

function statLine(
  pid: number,
  comm: string,
  tail = "S 1 7 7 0 -1 4194304 11 0 12 0 1 2 0 0 20 0 3 0 9876 4096 25 x",
): string {
  return `${pid} (${comm}) ${tail}\n`;
}

Deno.test("parseStat: fields after the LAST ')' whatever the name holds", () => {
  const names = ["plain", "a b", "x) S 1 2 3 (", "new\nline", "esc\x1b[2J", "((", ""];
  for (const name of names) {
    const stat = parseStat(statLine(321, name));
    assertFields(stat, {
      name,
      pid: 321,
      state: "S",
      ppid: 1,
      flags: 4194304,
      minorFaults: 11,
      majorFaults: 12,
      threads: 3,
      startTime: 9876,
      rssPages: 25,
    }, `name ${JSON.stringify(name)}`);
  }
});

Deno.test("parseStat: empty, truncated or non-numeric text gives null", () => {
  assert.equal(parseStat(""), null);
  assert.equal(parseStat("12 (name"), null);
  assert.equal(parseStat("12 (name) S 1 2 3"), null);
  assert.equal(parseStat("x (name) S 1 7 7 0 -1 4194304 11 0 12 0 1 2 0 0 20 0 3 0 9 4 25"), null);
  assert.equal(
    parseStat(statLine(5, "n", "S one 7 7 0 -1 4194304 11 0 12 0 1 2 0 0 20 0 3 0 9 4 25")),
    null,
  );
  assert.equal(
    parseStat(statLine(5, "n", "?? 1 7 7 0 -1 4194304 11 0 12 0 1 2 0 0 20 0 3 0 9 4 25")),
    null,
  );
});

Deno.test("fixture /proc: every kind of process, skipped ones counted", async () => {
  const scan = await scanProcesses(PROCS);
  const byPid = new Map(scan.processes.map((p) => [p.pid, p]));
  assert.deepEqual([...byPid.keys()], [1, 2, 45, 1200, 1300, 1400, 1500]);
  // 1700 has no stat, 1701 an empty one: both vanished mid-scan.
  assert.equal(scan.vanished, 2);
  assert.equal(scan.malformed.length, 1);
  assert.match(scan.malformed[0] ?? "", /1600\/stat: cannot parse/);

  // uid is the owner of the pid directory (git keeps no owners: whoever checked out).
  const fixtureOwner = (await Deno.stat(`${PROCS}/1200`)).uid;
  assert.deepEqual(byPid.get(1200), {
    pid: 1200,
    startTime: 123456,
    id: "1200@123456",
    name: "stress-ng",
    state: "S",
    ppid: 1,
    uid: fixtureOwner,
    threads: 4,
    rssKb: 262144 * 4,
    minorFaults: 987654,
    majorFaults: 3,
    kernelThread: false,
  });
  assert.equal(byPid.get(1300)?.name, "my (app) \x1b[2J");
  assert.equal(byPid.get(1300)?.state, "R");
  assert.equal(byPid.get(1400)?.state, "Z");
  assert.equal(byPid.get(1500)?.state, "T");
  assert.equal(byPid.get(1500)?.name, "paused job");
  // kthreadd (pid 2) and a PF_KTHREAD kworker are kernel threads; systemd is not.
  assert.equal(byPid.get(2)?.kernelThread, true);
  assert.equal(byPid.get(45)?.kernelThread, true);
  assert.equal(byPid.get(1)?.kernelThread, false);
  assert.deepEqual(await listProcesses(PROCS), scan.processes);
});

Deno.test("fixture /proc: readProcess, confirmProcess, listThreadIds", async () => {
  assert.equal((await readProcess(PROCS, 1300))?.name, "my (app) \x1b[2J");
  assert.equal(await readProcess(PROCS, 1600), null); // truncated
  assert.equal(await readProcess(PROCS, 1700), null); // stat missing
  assert.equal(await readProcess(PROCS, 99999), null); // no such pid
  assert.deepEqual(await readProcessDetailed(PROCS, 1700), { kind: "vanished" });
  assert.deepEqual(await readProcessDetailed(PROCS, 1701), { kind: "vanished" });
  assert.equal((await readProcessDetailed(PROCS, 1600)).kind, "malformed");

  assert.equal((await confirmProcess(PROCS, { pid: 1200, startTime: 123456 }))?.name, "stress-ng");
  assert.equal(await confirmProcess(PROCS, { pid: 1200, startTime: 123457 }), null);
  assert.deepEqual(await listThreadIds(PROCS, 1200), [1200, 1201, 1202, 1203]);
  assert.deepEqual(await listThreadIds(PROCS, 1700), []);
  assert.deepEqual(await listThreadIds(PROCS, 99999), []);
});

Deno.test("real /proc: finds this process with its true start time", async () => {
  const processes = await listProcesses();
  const self = processes.find((p) => p.pid === Deno.pid);
  assert.ok(self !== undefined);
  assert.equal(self.ppid, Deno.ppid);
  assert.equal(self.uid, Deno.uid());
  assert.equal(self.kernelThread, false);
  assert.ok(self.threads >= 1 && self.rssKb > 0);
  // Independent check of field 22: procps computes the elapsed time from it too.
  const ps = await new Deno.Command("ps", { args: ["-o", "etimes=", "-p", String(Deno.pid)] })
    .output();
  const elapsedSeconds = Number(new TextDecoder().decode(ps.stdout).trim());
  const uptimeSeconds = await readUptimeSeconds();
  const expectedTicks = (uptimeSeconds - elapsedSeconds) * CLOCK_TICKS_PER_SECOND;
  assert.ok(
    Math.abs(self.startTime - expectedTicks) <= 1.5 * CLOCK_TICKS_PER_SECOND,
    `start ${self.startTime} ticks, ps says about ${expectedTicks.toFixed(0)}`,
  );
  assert.ok(processes.some((p) => p.kernelThread), "a real /proc has kernel threads");
  const threads = await listThreadIds("/proc", Deno.pid);
  assert.ok(threads.includes(Deno.pid));

  assert.equal((await confirmProcess("/proc", self))?.pid, Deno.pid);
  assert.equal(
    await confirmProcess("/proc", { pid: Deno.pid, startTime: self.startTime + 1 }),
    null,
  );
});

Deno.test("real /proc: a child is confirmed while alive, not after it exits", async () => {
  const uptimeBefore = await readUptimeSeconds();
  const child = new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" }).spawn();
  try {
    const uptimeAfter = await readUptimeSeconds();
    const alive = await readProcess("/proc", child.pid);
    assert.ok(alive !== null);
    // Its start time (clock ticks since boot) lies between the two uptime readings.
    const startSeconds = alive.startTime / CLOCK_TICKS_PER_SECOND;
    assert.ok(
      startSeconds >= uptimeBefore - 0.02 && startSeconds <= uptimeAfter + 0.02,
      `start ${startSeconds}s outside [${uptimeBefore}, ${uptimeAfter}]`,
    );
    assert.equal(alive.name, "sleep");
    assert.equal(alive.ppid, Deno.pid);
    assert.equal((await confirmProcess("/proc", alive))?.pid, child.pid);
    child.kill("SIGKILL");
    await child.status;
    assert.equal(await confirmProcess("/proc", alive), null);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  }
});

Deno.test({
  name: "real /proc: uid is the effective uid of another user's process",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const child = sleepAsNobody();
    try {
      // setpriv drops to nobody, then execs sleep: wait for the exec (the name changes).
      let seen = await readProcess("/proc", child.pid);
      for (let i = 0; i < 200 && seen?.name !== "sleep"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen = await readProcess("/proc", child.pid);
      }
      assert.equal(seen?.name, "sleep");
      assert.equal(seen?.uid, 65534);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  },
});

Deno.test("real /proc: children killed after readdir are skipped, never an error", async () => {
  const children = Array.from(
    { length: 6 },
    () => new Deno.Command("sleep", { args: ["30"], stdout: "null", stderr: "null" }).spawn(),
  );
  const pids = children.map((c) => c.pid);
  try {
    const before = await scanProcesses();
    for (const pid of pids) assert.ok(before.processes.some((p) => p.pid === pid));
    // "readdir" happened above; now they die and are reaped before we read them.
    const killedWhileScanning = scanProcesses();
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(children.map((c) => c.status));
    const during = await killedWhileScanning;
    assert.deepEqual(during.malformed, []);
    for (const pid of pids) {
      assert.deepEqual(await readProcessDetailed("/proc", pid), { kind: "vanished" });
      assert.equal(await readProcess("/proc", pid), null);
      assert.deepEqual(await listThreadIds("/proc", pid), []);
    }
    const after = await scanProcesses();
    for (const pid of pids) assert.ok(!after.processes.some((p) => p.pid === pid));
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await Promise.all(children.map((c) => c.status));
  }
});
