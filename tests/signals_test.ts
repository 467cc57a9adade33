/**
 * `--signals software`: the software stand-in for a missing PMU, chosen by
 * the user only, and labelled as not memory signals wherever it shows: the
 * flag, the capabilities, the start-up lines, the simulated machine, a real
 * counter source on this machine (no PMU, software events work) and a real
 * `waspd --once --json`.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../src/options.ts";
import { capabilitiesJson } from "../src/core/capabilities.ts";
import { counterRates } from "../src/core/rates.ts";
import { SOFTWARE_REASON_PREFIX, SOFTWARE_SIGNALS_NOTE } from "../src/core/signals.ts";
import type { Snapshot } from "../src/core/snapshot.ts";
import type { CounterStatus, CpuIdentity, SignalKind } from "../src/core/types.ts";
import { processKeyString } from "../src/core/types.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { startupLines } from "../src/daemon/startup.ts";
import { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";
import { LinuxCounterSource } from "../src/sys/perf/counters.ts";
import { libc } from "../src/ffi/libc.ts";
import { runRecorded } from "./support/cli_run.ts";
import { processInfo } from "./support/process_info.ts";
import { runWaspd } from "./support/waspd.ts";

// Open libc once, outside any test: the resource sanitizer would count the
// (deliberately never closed) library as the first test's leak.
libc();

const NO_MITOSIS = { present: false, variant: null, files: [], reason: "absent" };
const ROOT = { root: true, uid: 0 };

function status(signals: SignalKind, available: boolean): CounterStatus {
  return {
    available,
    signals,
    source: available ? (signals === "software" ? "software (…)" : "intel-icx-raw") : null,
    reason: available ? null : "perf_event_open: ENOENT",
    paranoid: 2,
    fdBudget: 100,
    fdUsed: 0,
  };
}

Deno.test("--signals: hardware by default, software when asked, anything else a usage error", async () => {
  const plain = await runRecorded([]);
  assert.equal(plain.calls[0]?.config.signals, "hardware");
  const software = await runRecorded(["--signals", "software", "--thr-mar", "5e8"]);
  assert.equal(software.code, 0, software.err);
  assert.equal(software.calls[0]?.config.signals, "software");
  assert.equal(software.calls[0]?.config.thrMar, 5e8);
  assert.equal((await runRecorded(["--signals=hardware"])).calls[0]?.config.signals, "hardware");
  for (const bad of ["bogus", "Software", "", "soft"]) {
    const r = await runRecorded(["--signals", bad]);
    assert.equal(r.code, 2, bad);
    assert.deepEqual(r.calls, []);
    assert.match(r.err, /--signals: '.*' is not one of hardware, software/);
  }
  const help = (await runRecorded(["--help"])).out;
  assert.match(help, /--signals <kind>/);
  assert.match(help, /NOT memory signals: task-clock gives\s+the rate in CPU ns\/s/);
  assert.match(help, /page faults per CPU ns/);
});

Deno.test("capabilities: software signals are available but not hardware, with the note", () => {
  const sw = capabilitiesJson(ROOT, status("software", true), NO_MITOSIS).perf;
  assert.deepEqual(
    [sw.hardware, sw.available, sw.signals, sw.signals_note],
    [false, true, "software", SOFTWARE_SIGNALS_NOTE],
  );
  assert.match(sw.signals_note ?? "", /^not memory signals: /);
  const hw = capabilitiesJson(ROOT, status("hardware", true), NO_MITOSIS).perf;
  assert.deepEqual([hw.hardware, hw.available, hw.signals, hw.signals_note], [
    true,
    true,
    "hardware",
    null,
  ]);
  const none = capabilitiesJson(ROOT, status("hardware", false), NO_MITOSIS).perf;
  assert.deepEqual([none.hardware, none.available], [false, false]);
});

Deno.test("start-up lines warn of software signals, and name the kind that is unavailable", async () => {
  const sim = new SimHost();
  const topology = await sim.topology();
  await sim.close();
  const at = {
    topology,
    privileges: ROOT,
    detection: NO_MITOSIS,
    mitosis: null,
  };
  const texts = (s: CounterStatus) =>
    startupLines(at, s).filter((l) => l.warning).map((l) => l.text);
  assert.ok(texts(status("software", true)).includes(`software signals: ${SOFTWARE_SIGNALS_NOTE}`));
  assert.ok(
    texts(status("software", false)).some((t) => /^software counters unavailable: /.test(t)),
  );
  assert.ok(
    texts(status("hardware", false)).some((t) => /^hardware counters unavailable: /.test(t)),
  );
  assert.ok(!texts(status("hardware", true)).some((t) => /software/.test(t)));
});

Deno.test("--sim --signals software: labelled the same way, every reason carries the prefix", async () => {
  const run = async (signals: SignalKind): Promise<Snapshot[]> => {
    const host = new SimHost({ nodes: 2, seed: 3, manualClock: true, signals });
    const config = { ...defaultConfig(), simNodes: 2, signals, hysteresisMs: 2000 };
    await using daemon = await Daemon.open(host, config, { selfPid: SIM_PIDS.waspd });
    const snapshots: Snapshot[] = [];
    for (let t = 0; t < 6; t++) {
      snapshots.push(await daemon.tick());
      await host.advance(1000);
      await daemon.settle();
    }
    return snapshots;
  };
  const software = await run("software");
  const last = software.at(-1)!;
  assert.equal(last.capabilities.perf.signals, "software");
  assert.equal(last.capabilities.perf.signals_note, SOFTWARE_SIGNALS_NOTE);
  assert.equal(last.capabilities.perf.hardware, false);
  const reasons = software.flatMap((s) => [
    ...s.processes.map((p) => p.reason),
    ...s.decisions.map((d) => d.reason),
  ]);
  assert.ok(reasons.length > 0);
  for (const reason of reasons) assert.ok(reason.startsWith(SOFTWARE_REASON_PREFIX), reason);
  const decisions = software.flatMap((s) => s.events).filter((e) => e.kind === "decision");
  assert.ok(decisions.length > 0, "the policy decided something");
  for (const e of decisions) assert.match(e.message, /software stand-in: /);
  assert.ok(
    software.flatMap((s) => s.events).some((e) => e.message.startsWith("software signals: ")),
  );

  const hardware = (await run("hardware")).at(-1)!;
  assert.equal(hardware.capabilities.perf.signals, "hardware");
  assert.ok(hardware.processes.every((p) => !p.reason.includes("software")));
});

Deno.test("real: a LinuxCounterSource with software signals gives a busy child a non-zero rate", async () => {
  // The CPU does not matter: software events are the same on every one.
  const cpu: CpuIdentity = { vendor: null, family: null, model: null, modelName: null, mhz: null };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "while (true) {}"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const source = new LinuxCounterSource({ cpu, signals: "software" });
  try {
    const s = source.status();
    assert.equal(s.available, true, s.reason ?? "");
    assert.equal(s.signals, "software");
    const target = processInfo(child.pid, { startTime: 1, rssKb: 1000 });
    const key = processKeyString(target);
    const first = source.sample([target]).get(key);
    assert.ok(first, "a reading for the child");
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 300));
    const second = source.sample([target]).get(key);
    const rates = counterRates(first, second ?? null, performance.now() - t0);
    // task-clock of a spinning process: CPU ns per second, more than none.
    assert.ok(rates.mar !== null && rates.mar > 0, `rate ${rates.mar}`);
    assert.ok(rates.dtlbRatio !== null && rates.dtlbRatio >= 0, `ratio ${rates.dtlbRatio}`);
  } finally {
    source.close();
    child.kill("SIGKILL");
    await child.status;
  }
});

const waspd = (...args: string[]) => runWaspd(args);

Deno.test("real: `waspd --signals bogus` exits 2 with one line", async () => {
  const r = await waspd("--signals", "bogus", "--once", "--json");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /--signals: 'bogus' is not one of hardware, software/);
});

Deno.test("real: `waspd --once --json --signals software` on this machine reports software signals", async () => {
  const busy = new Deno.Command(Deno.execPath(), {
    args: ["eval", "while (true) {}"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stateDir = await Deno.makeTempDir({ prefix: "waspd-signals-" });
  try {
    const r = await waspd(
      "--once",
      "--json",
      "--signals",
      "software",
      "-u",
      "300",
      "--state-dir",
      stateDir,
    );
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Snapshot;
    const perf = s.capabilities.perf;
    assert.equal(perf.signals, "software");
    assert.equal(perf.hardware, false);
    assert.equal(perf.available, true, perf.reason ?? "");
    assert.equal(perf.signals_note, SOFTWARE_SIGNALS_NOTE);
    assert.match(perf.source ?? "", /^software \(task-clock as loads, page-faults as walks\)$/);
    const mine = s.processes.find((p) => p.pid === busy.pid);
    assert.ok(mine, "the busy child is listed");
    assert.ok(mine.mar !== null && mine.mar > 0, `its rate: ${mine.mar}`);
    for (const p of s.processes) assert.ok(p.reason.startsWith(SOFTWARE_REASON_PREFIX), p.reason);
  } finally {
    busy.kill("SIGKILL");
    await busy.status;
    await Deno.remove(stateDir, { recursive: true });
  }
});
