/**
 * `waspd --once`, run as a user would: one snapshot of this real host as JSON
 * (the contract for scripts), and the plain-text report of the simulated one.
 */
import assert from "node:assert/strict";
import { runWaspd } from "./support/waspd.ts";

const waspd = (...args: string[]) => runWaspd(args);

Deno.test("--once --json on this host: one snapshot with host, capabilities and processes", async () => {
  // Its own state dir: a test must not take over a running waspd's processes
  // (owned.json) nor prune the operator's pins in /run/waspd.
  const stateDir = await Deno.makeTempDir({ prefix: "waspd-once-" });
  let r: Awaited<ReturnType<typeof waspd>>;
  try {
    r = await waspd("--once", "--json", "-u", "200", "--state-dir", stateDir);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1, "exactly one JSON object");
  const s = JSON.parse(lines[0]!);
  assert.equal(s.schema, 1);
  assert.equal(s.simulated, false);

  // host: what /sys says.
  const online = Deno.readTextFileSync("/sys/devices/system/node/online").trim();
  assert.ok(s.host.nodes.length >= 1);
  assert.equal(s.host.nodes[0].id, Number(online.split(/[-,]/)[0]));
  assert.ok(s.host.nodes[0].cpus.length >= 1);
  assert.equal(s.host.nodes[0].distances.length, s.host.nodes.length);
  assert.equal(typeof s.host.cpu.vendor, "string");

  // capabilities: every absent feature comes with its reason.
  assert.equal(s.capabilities.root, Deno.uid() === 0);
  if (!s.capabilities.perf.available) assert.ok(s.capabilities.perf.reason.length > 0);
  let mitosis = true;
  try {
    Deno.statSync("/proc/mitosis");
  } catch {
    mitosis = false;
  }
  assert.equal(s.capabilities.mitosis.present, mitosis);
  if (!mitosis) {
    assert.match(s.capabilities.mitosis.reason, /EINVAL/);
    assert.equal(s.capabilities.mode, "advisory");
  }

  // processes: user processes only, and an unknown counter is null, never 0.
  assert.ok(Array.isArray(s.processes));
  for (const p of s.processes) {
    assert.ok(p.pid !== 2, "kthreadd is a kernel thread");
    assert.equal(typeof p.start_time, "number");
    if (!s.capabilities.perf.available) {
      assert.equal(p.mar, null);
      assert.equal(p.dtlb_ratio, null);
    }
  }
  for (const key of ["mitosis", "ptl", "steering", "decisions", "events", "tick_ms", "daemon"]) {
    assert.ok(key in s, `key ${key}`);
  }
  assert.ok(s.ptl === null || s.ptl.rows.length === s.ptl.latency_ns.length);
});

Deno.test("--once without --json: a plain report, no escape codes, SIMULATED on --sim", async () => {
  const r = await waspd("--once", "--sim", "-u", "500");
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes("\x1b"), "no escape codes in a report");
  assert.match(r.stdout, /^waspd \[SIMULATED\]/);
  assert.match(r.stdout, /PTL latency \(ns\)/);
  assert.match(r.stdout, /steering: 0->0 /);
  assert.match(r.stdout, / stream /);
  assert.doesNotMatch(r.stdout, / sshd /, "system daemons are excluded");
  assert.doesNotMatch(r.stdout, /q quit/, "no key line in a report");
});

Deno.test("--log FILE: every event as a JSON line, the same ones the snapshot carries", async () => {
  const dir = await Deno.makeTempDir({ prefix: "waspd-log-" });
  try {
    const log = `${dir}/events.jsonl`;
    const r = await waspd("--once", "--json", "--sim", "-u", "500", "--log", log);
    assert.equal(r.code, 0, r.stderr);
    const snapshot = JSON.parse(r.stdout);
    const logged = (await Deno.readTextFile(log)).trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(logged.length >= 2);
    for (const e of logged) {
      assert.equal(typeof e.seq, "number");
      assert.equal(typeof e.kind, "string");
      assert.equal(typeof e.message, "string");
    }
    assert.deepEqual(snapshot.events, logged);
    assert.ok(logged.some((e) => e.kind === "decision" && /watch/.test(e.message)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--log to a file that cannot be opened: one line, exit 2", async () => {
  const r = await waspd("--once", "--json", "--sim", "--log", "/nonexistent-dir/x.log");
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr.trim(), /^waspd: --log \/nonexistent-dir\/x\.log: /);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});
