/**
 * Crash-safe ownership end to end: a `--sim` daemon (the real main.ts, its
 * simulated machine kept in a state directory) turns replication on and is
 * SIGKILLed, so no undo runs; the next daemon finds the ownership record,
 * checks it against the (persisted) simulated kernel and adopts or turns off
 * each entry, saying which.
 */
import assert from "node:assert/strict";
import { inTempDir } from "./support/scratch.ts";
import { runUntil, runWaspd } from "./support/waspd.ts";

const SIM = ["--sim", "--json", "--time-scale", "50", "-u", "500", "-i", "600000", "-y", "1000"];

/** stream: replicated early and alive for the whole simulated epoch (10 min). */
const STREAM = 2001;

interface Snapshot {
  daemon: { replicated: number };
  processes: { pid: number; replicated: boolean | null }[];
  events: { kind: string; message: string; pid: number | null }[];
}

interface OwnedJson {
  owner_pid: number;
  entries: { pid: number; start_time: number; state: string; reason: string }[];
}

interface SimStateJson {
  processes: { pid: number; mask: number }[];
}

function readJson<T>(path: string): T {
  return JSON.parse(Deno.readTextFileSync(path));
}

/** Kill a daemon with replication on; returns what it left behind. */
async function killedWithReplicationOn(dir: string) {
  const first = await runUntil<Snapshot>(
    [...SIM, "--state-dir", dir],
    // stream, not a short-lived process the simulated clock may end before the next start.
    (s) => s.processes.some((p) => p.pid === STREAM && p.replicated === true),
    "SIGKILL",
  );
  assert.equal(first.code, 137, "killed, so no undo ran");
  const owned = readJson<OwnedJson>(`${dir}/owned.json`);
  assert.ok(owned.entries.length >= 1, "the record names what it turned on");
  // A call under way at the kill leaves its intent ("enabling", "disabling");
  // every settled entry is "on", and the kernel still has it on.
  assert.ok(owned.entries.every((e) => e.reason.length > 0));
  assert.ok(owned.entries.some((e) => e.pid === STREAM && e.state === "on"));
  const replicated = readJson<SimStateJson>(`${dir}/sim-kernel.json`).processes
    .filter((p) => p.mask !== 0).map((p) => p.pid);
  for (const e of owned.entries.filter((e) => e.state === "on")) {
    assert.ok(replicated.includes(e.pid), `${e.pid} still on`);
  }
  return owned;
}

const inStateDir = (use: (dir: string) => Promise<void>) => inTempDir("waspd-owned-", use);

Deno.test("SIGKILLed --sim daemon: the next one adopts what is still on, and undoes it at exit", () =>
  inStateDir(async (dir) => {
    const owned = await killedWithReplicationOn(dir);
    const second = await runUntil<Snapshot>([...SIM, "--state-dir", dir], () => true, "SIGTERM");
    assert.equal(second.code, 0, second.stderr);
    const events = second.snapshots.flatMap((s) => s.events);
    assert.ok(owned.entries.some((e) => e.pid === STREAM));
    for (const e of owned.entries) {
      const said = events.filter((ev) => ev.pid === e.pid && /^ownership: /.test(ev.message));
      assert.equal(said.length, 1, JSON.stringify(events));
      const message = said[0]?.message ?? "";
      // A short-lived process may have ended in simulated time before the
      // next start: forgetting it is right. stream lives on and is adopted.
      if (e.pid !== STREAM && /^ownership: forgot .*has exited/.test(message)) continue;
      assert.match(
        message,
        new RegExp(`^ownership: adopted pid ${e.pid} .*turned on by waspd pid ${owned.owner_pid}`),
      );
      // Adopted means owned: the undo at exit turns it off.
      assert.match(second.stderr, new RegExp(`replication turned off for pid ${e.pid} `));
    }
    const replicated = readJson<SimStateJson>(`${dir}/sim-kernel.json`).processes
      .filter((p) => p.mask !== 0);
    assert.deepEqual(replicated, [], "the simulated kernel has nothing left on");
    assert.throws(() => Deno.lstatSync(`${dir}/owned.json`), Deno.errors.NotFound);
  }));

Deno.test("SIGKILLed --sim daemon: a process the new policy excludes is turned off at start", () =>
  inStateDir(async (dir) => {
    const owned = await killedWithReplicationOn(dir);
    const first = owned.entries.find((e) => e.pid === STREAM)!;
    const sim = readJson<SimStateJson & { seed: number }>(`${dir}/sim-kernel.json`);
    assert.ok(sim.processes.some((p) => p.pid === first.pid));
    // The name to exclude: ask the resumed machine through `status`.
    const status = await runWaspd(["--sim", "--state-dir", dir, "status", "--json"]);
    const processes: { pid: number; name: string }[] = JSON.parse(status.stdout).processes;
    const name = processes.find((p) => p.pid === first.pid)?.name;
    assert.ok(name, "status on the resumed machine lists it as replicated");
    const second = await runUntil<Snapshot>(
      [...SIM, "--state-dir", dir, "--exclude", name],
      (s) => s.events.some((e) => e.kind === "disable" && e.pid === first.pid),
      "SIGTERM",
    );
    assert.equal(second.code, 0, second.stderr);
    const events = second.snapshots.flatMap((s) => s.events).filter((e) => e.pid === first.pid);
    assert.match(events[0]?.message ?? "", /^ownership: turning off pid \d+ .*excluded/);
    assert.ok(events.some((e) => e.kind === "disable"));
    const still = readJson<SimStateJson>(`${dir}/sim-kernel.json`).processes
      .filter((p) => p.pid === first.pid && p.mask !== 0);
    assert.deepEqual(still, []);
  }));

Deno.test("a second enforcing --sim daemon on the same state directory: one line, exit 2; --once runs beside it", () =>
  inStateDir(async (dir) => {
    const args = [...SIM, "--state-dir", dir];
    let second: { code: number; stderr: string } | null = null;
    let once: { code: number; stderr: string } | null = null;
    const first = await runUntil<Snapshot>(args, async () => {
      second ??= await runWaspd(args);
      once ??= await runWaspd([...args, "--once"]);
      return true;
    }, "SIGTERM");
    assert.equal(first.code, 0, first.stderr);
    assert.ok(second !== null && once !== null);
    const refused: { code: number; stderr: string } = second;
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /^waspd: another waspd \(pid \d+\) is enforcing with this state directory .*: stop it first, or give this one another --state-dir\n$/,
    );
    assert.equal((once as { code: number }).code, 0);
    const events = first.snapshots.flatMap((s) => s.events).map((e) => e.message);
    assert.ok(!events.some((m) => /^ownership: /.test(m)), "nothing of the first was taken over");
  }));
