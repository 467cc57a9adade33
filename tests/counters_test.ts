/**
 * The counter source for real, on this machine: hardware events give the
 * documented unavailable state; software events (explicit test option) go
 * through the same per-thread open/read/close path on a multi-threaded
 * child process started here.
 */
import assert from "node:assert/strict";
import { LinuxCounterSource } from "../src/sys/perf/counters.ts";
import { SOFTWARE_EVENTS } from "../src/sys/perf/events.ts";
import { FD_RESERVE, fdBudget } from "../src/sys/perf/fd_budget.ts";
import {
  explainOpenFailure,
  parseHypervisorFlag,
  parseParanoid,
  type PerfEnvironment,
  summarizeFailures,
} from "../src/sys/perf/diagnose.ts";
import type { CounterReading, CpuIdentity, ProcessInfo } from "../src/core/types.ts";
import { processInfo } from "./support/process_info.ts";
import { processKeyString } from "../src/core/types.ts";
import { libc, RLIMIT_NOFILE } from "../src/ffi/libc.ts";

// Open libc once, outside any test: the resource sanitizer counts the
// process-lifetime dlopen as a leak of whichever test happens to be first.
libc();

const THIS_CPU: CpuIdentity = readCpuIdentity();

function readCpuIdentity(): CpuIdentity {
  const text = Deno.readTextFileSync("/proc/cpuinfo");
  const field = (name: string) =>
    text.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1] ?? null;
  const num = (s: string | null) => (s === null ? null : Number(s));
  return {
    vendor: field("vendor_id"),
    family: num(field("cpu family")),
    model: num(field("model")),
    modelName: field("model name"),
    mhz: null,
  };
}

/** A ProcessInfo for `pid` with its real start time; `rssKb` as the test wants it ranked. */
function target(pid: number, rssKb: number): ProcessInfo {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return processInfo(pid, {
    startTime: Number(fields[19]),
    name: "child",
    state: "S",
    ppid: Deno.pid,
    rssKb,
  });
}

function taskCount(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/task`)].length;
}

// A Deno child with two idle Workers (each an OS thread); on "spawn" it adds two
// busy ones, on "stop" it terminates those two, answering each command on stdout.
// Only the busy workers burn CPU, so when they end, a total that forgot their
// counts would visibly drop.
const CHILD = `
const blob = (code) => URL.createObjectURL(new Blob([code], { type: "application/javascript" }));
const idle = blob("setInterval(() => {}, 1000);");
const busy = blob("setInterval(() => { const end = performance.now() + 4; while (performance.now() < end) {} }, 10);");
const spawn = (url) => new Worker(url, { type: "module" });
const base = [spawn(idle), spawn(idle)];
let extra = [];
const say = (s) => Deno.stdout.writeSync(new TextEncoder().encode(s + "\\n"));
setTimeout(() => say("ready"), 300);
let buf = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buf += chunk;
  for (let i; (i = buf.indexOf("\\n")) >= 0;) {
    const cmd = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (cmd === "spawn") { extra = [spawn(busy), spawn(busy)]; setTimeout(() => say("spawned"), 300); }
    if (cmd === "stop") { for (const w of extra) w.terminate(); extra = []; setTimeout(() => say("stopped"), 300); }
  }
}
for (const w of base) w.terminate();
`;

class Child {
  readonly process: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #buffer = "";

  constructor() {
    this.process = new Deno.Command(Deno.execPath(), {
      args: ["eval", CHILD],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#lines = this.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stdin = this.process.stdin.getWriter();
  }

  async expect(line: string): Promise<void> {
    while (!this.#buffer.includes(`${line}\n`)) {
      const { value, done } = await this.#lines.read();
      if (done) throw new Error(`child ended before saying ${line}`);
      this.#buffer += value;
    }
    this.#buffer = this.#buffer.replace(`${line}\n`, "");
  }

  async command(cmd: string, answer: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${cmd}\n`));
    await this.expect(answer);
  }

  async end(): Promise<void> {
    await this.#stdin.close().catch(() => {});
    try {
      this.process.kill("SIGKILL");
    } catch {
      // already gone
    }
    await this.process.status;
    await this.#lines.cancel().catch(() => {});
  }
}

/** Let the child run for a while. */
async function pause(ms: number) {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

const hasHardwarePmu = (() => {
  try {
    Deno.statSync("/sys/bus/event_source/devices/cpu");
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "hardware counters without a PMU: unavailable, with ENOENT and the facts",
  ignore: hasHardwarePmu,
  fn() {
    const source = new LinuxCounterSource({ cpu: THIS_CPU });
    try {
      const status = source.status();
      assert.equal(status.available, false);
      assert.equal(status.source, null);
      assert.match(status.reason ?? "", /ENOENT/);
      assert.match(status.reason ?? "", /no hardware PMU/);
      assert.match(status.reason ?? "", /hypervisor (present|unknown)|no hypervisor flag/);
      const paranoid = Number(Deno.readTextFileSync("/proc/sys/kernel/perf_event_paranoid").trim());
      assert.equal(status.paranoid, paranoid);
      assert.equal(status.fdUsed, 0);
      // No counters: targets are simply absent from the readings, never zeros.
      const readings = source.sample([target(Deno.pid, 1000)]);
      assert.equal(readings.size, 0);
    } finally {
      source.close();
    }
  },
});

Deno.test("a third counter per thread for walk cycles: 3 fds a thread, summed like the others", async () => {
  const child = new Child();
  const source = new LinuxCounterSource({
    cpu: THIS_CPU,
    signals: "software",
    eventSets: [{ ...SOFTWARE_EVENTS, walkCycles: SOFTWARE_EVENTS.loads }],
  });
  try {
    await child.expect("ready");
    assert.equal(source.status().walkCycles, "task-clock");
    const me = target(child.process.pid, 5000);
    const key = processKeyString(me);
    const threads = taskCount(me.pid);
    const first = source.sample([me]).get(key);
    assert.equal(source.status().fdUsed, 3 * threads);
    // The busy child may get no CPU for a while on a loaded machine: wait for it (bounded).
    let second = source.sample([me]).get(key);
    for (let i = 0; i < 50 && (second?.walkCycles ?? 0) <= (first?.walkCycles ?? 0); i++) {
      await pause(200);
      second = source.sample([me]).get(key);
    }
    assert.ok(first?.walkCycles != null && second?.walkCycles != null);
    assert.ok(second.walkCycles > first.walkCycles, `${first.walkCycles} -> ${second.walkCycles}`);
  } finally {
    source.close();
    await child.end();
  }
  // Without the event (the software pair has none): 2 fds a thread and walk cycles unknown.
  const plain = new LinuxCounterSource({ cpu: THIS_CPU, signals: "software" });
  try {
    assert.equal(plain.status().walkCycles, null);
    assert.match(plain.status().walkCyclesReason ?? "", /has no page-walk duration event/);
    const reading = plain.sample([target(Deno.pid, 1000)]).get(
      processKeyString(target(Deno.pid, 1000)),
    );
    assert.equal(reading?.walkCycles, null);
  } finally {
    plain.close();
  }
});

Deno.test("software events: per-thread counters follow a multi-threaded child", async () => {
  const child = new Child();
  const source = new LinuxCounterSource({ cpu: THIS_CPU, signals: "software" });
  try {
    await child.expect("ready");
    const status = source.status();
    assert.equal(status.available, true, status.reason ?? "");
    assert.match(status.source ?? "", /^software /);
    assert.equal(status.signals, "software");
    assert.ok(status.fdBudget > 0);

    const me = target(child.process.pid, 5000);
    const key = processKeyString(me);
    const threads0 = taskCount(me.pid);
    assert.ok(threads0 >= 3, `child has ${threads0} threads`);

    const first = source.sample([me]).get(key);
    assert.ok(first, "a reading for the child");
    assert.equal(first.threads, threads0);
    assert.equal(source.status().fdUsed, 2 * threads0);

    // New threads are picked up at the next sample.
    await child.command("spawn", "spawned");
    const threads1 = taskCount(me.pid);
    assert.ok(threads1 >= threads0 + 2, `${threads0} -> ${threads1} threads`);
    const second = source.sample([me]).get(key) as CounterReading;
    assert.equal(second.threads, threads1);
    assert.equal(source.status().fdUsed, 2 * threads1);

    await pause(300);
    const third = source.sample([me]).get(key) as CounterReading;
    assert.ok(third.loads !== null && second.loads !== null);
    // task-clock (ns) of two workers busy ~40% each over 300 ms: clearly more than nothing.
    const grew = third.loads - second.loads;
    assert.ok(grew > 10_000_000, `task-clock grew by ${grew} ns`);
    assert.ok(third.enabledNs > second.enabledNs);
    assert.equal(third.runningNs, third.enabledNs); // software events are never multiplexed

    // Dead threads are closed; their final counts stay in the total.
    await child.command("stop", "stopped");
    const threads2 = taskCount(me.pid);
    assert.ok(threads2 < threads1, `${threads1} -> ${threads2} threads`);
    const fourth = source.sample([me]).get(key) as CounterReading;
    assert.equal(fourth.threads, threads2);
    assert.equal(source.status().fdUsed, 2 * threads2);
    assert.ok(
      fourth.loads !== null && fourth.loads >= third.loads,
      `total went from ${third.loads} to ${fourth.loads}`,
    );

    // The process ends: its counters are closed and it is absent.
    await child.end();
    const last = source.sample([me]);
    assert.equal(last.has(key), false);
    assert.equal(source.status().fdUsed, 0);
  } finally {
    source.close();
    await child.end();
  }
});

Deno.test("fd budget: largest RSS first; a process that does not fit gets no counters", async () => {
  // Raise the soft limit as the source would, then ask for a budget of exactly 2 fds.
  new LinuxCounterSource({ cpu: THIS_CPU, signals: "software" }).close();
  const soft = Number(libc().getrlimit(RLIMIT_NOFILE).soft);
  const small = new Deno.Command("sleep", { args: ["30"] }).spawn();
  const large = new Deno.Command("sleep", { args: ["30"] }).spawn();
  const source = new LinuxCounterSource({
    cpu: THIS_CPU,
    signals: "software",
    fdShare: 2.5 / soft,
  });
  try {
    assert.equal(source.status().fdBudget, 2);
    const smallTarget = target(small.pid, 100);
    const largeTarget = target(large.pid, 900);
    let readings = source.sample([smallTarget, largeTarget]);
    assert.deepEqual([...readings.keys()], [processKeyString(largeTarget)]);
    assert.equal(source.status().fdUsed, 2);

    // The large one exits: the budget goes to the next one in line.
    large.kill("SIGKILL");
    await large.status;
    readings = source.sample([smallTarget, largeTarget]);
    assert.deepEqual([...readings.keys()], [processKeyString(smallTarget)]);
    assert.equal(source.status().fdUsed, 2);

    // A target whose threads cannot all fit (this Deno process) is skipped whole.
    const self = target(Deno.pid, 1_000_000);
    readings = source.sample([self, smallTarget]);
    assert.equal(readings.has(processKeyString(self)), false);
    assert.equal(readings.has(processKeyString(smallTarget)), true);
  } finally {
    source.close();
    for (const p of [small, large]) {
      try {
        p.kill("SIGKILL");
      } catch {
        // already gone
      }
      await p.status;
    }
  }
});

Deno.test("a target that never existed is absent, not an error", () => {
  const source = new LinuxCounterSource({ cpu: THIS_CPU, signals: "software" });
  try {
    const ghost = { ...target(Deno.pid, 10), pid: 0x3fffff0 };
    assert.equal(source.sample([ghost]).size, 0);
    assert.equal(source.status().fdUsed, 0);
  } finally {
    source.close();
  }
});

Deno.test("fdBudget leaves a reserve and stays even", () => {
  assert.equal(fdBudget(1024, 0.5), 512);
  assert.equal(fdBudget(1025, 0.5), 512);
  assert.equal(fdBudget(100, 0.9), 100 - FD_RESERVE);
  assert.equal(fdBudget(FD_RESERVE, 0.5), 0);
  assert.equal(fdBudget(null, 0.5), 0);
  assert.equal(fdBudget(1000, 7), 1000 - FD_RESERVE);
});

Deno.test("diagnosis: paranoid and hypervisor parsing, reasons per errno", () => {
  assert.equal(parseParanoid("2\n"), 2);
  assert.equal(parseParanoid("-1"), -1);
  assert.equal(parseParanoid("junk"), null);
  assert.equal(parseParanoid(null), null);
  assert.equal(
    parseHypervisorFlag("processor\t: 0\nflags\t\t: fpu vme hypervisor lahf_lm\n"),
    true,
  );
  assert.equal(parseHypervisorFlag("flags\t\t: fpu vme\n"), false);
  assert.equal(parseHypervisorFlag("no flags here"), null);

  const env: PerfEnvironment = { paranoid: 3, root: false, hypervisor: false, fdLimit: 1024 };
  assert.equal(
    explainOpenFailure("ls_dispatch.ld_dispatch", "ENOENT", { ...env, hypervisor: true }),
    "perf_event_open(ls_dispatch.ld_dispatch): ENOENT: no hardware PMU for this event " +
      "(hypervisor present; perf_event_paranoid 3; not root)",
  );
  assert.match(explainOpenFailure("x", "EOPNOTSUPP", env), /no hardware PMU.*no hypervisor flag/);
  assert.match(explainOpenFailure("x", "EACCES", env), /not root and perf_event_paranoid 3/);
  assert.match(
    explainOpenFailure("x", "EMFILE", env),
    /EMFILE: out of file descriptors \(limit 1024\)/,
  );
  assert.match(explainOpenFailure("x", "EPERM", { ...env, paranoid: null }), /unreadable/);

  // Every set failed the same way: said once, naming what was tried.
  const enoent = { code: "ENOENT", reason: "..." };
  assert.equal(
    summarizeFailures([{ source: "amd-zen3-raw", ...enoent }, {
      source: "generic-cache",
      ...enoent,
    }], { ...env, root: true, paranoid: 2, hypervisor: true }),
    "perf_event_open: ENOENT: no hardware PMU for this event " +
      "(tried amd-zen3-raw, generic-cache; hypervisor present; perf_event_paranoid 2; root)",
  );
  // Different failures: each set with its own reason.
  assert.equal(
    summarizeFailures([
      { source: "intel-skx-raw", code: null, reason: "counted 0" },
      { source: "generic-cache", code: "EACCES", reason: "refused" },
    ], env),
    "intel-skx-raw: counted 0; generic-cache: refused",
  );
});
