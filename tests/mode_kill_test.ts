/**
 * One record for all waspd changed: an enforcing daemon on the simulated
 * machine kept in a state directory (`--sim --state-dir`) owns a replication
 * and has changed the mode with `m` when it is SIGKILLed, so no undo runs.
 * The next enforcing daemon adopts the replication and puts back the mode the
 * first one found, from owned.json alone (the kernel reads the changed mode);
 * its own exit turns the replication off and leaves no record.
 */
import assert from "node:assert/strict";
import { defaultConfig } from "../src/options.ts";
import { Daemon } from "../src/daemon/daemon.ts";
import { libc } from "../src/ffi/libc.ts";
import { SimHost } from "../src/sim/host.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";
import { OWNED_FILE_NAME } from "../src/sys/ownership_file.ts";
import { lines } from "../src/sys/stream_lines.ts";
import { inTempDir } from "./support/scratch.ts";

// The claim locks through libc: loaded once for the whole file.
libc();

const CHILD = new URL("./support/mode_then_kill.ts", import.meta.url).pathname;
/** A hang guard for the child, not a speed limit. */
const CHILD_MS = 120_000;

interface OwnedJson {
  owner_pid: number;
  mode_found?: number;
  entries: { pid: number; state: string }[];
}

/** Start the child on `dir`, wait for its line, SIGKILL it; its pid and line. */
async function killedAfterMode(dir: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, dir],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(CHILD_MS),
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let said: { owned: OwnedJson; mode: number } | null = null;
  for await (const line of lines(child.stdout)) {
    said = JSON.parse(line);
    child.kill("SIGKILL");
  }
  const status = await child.status;
  assert.ok(said !== null, `the child said nothing: ${await stderr}`);
  assert.equal(status.signal, "SIGKILL", await stderr);
  return { pid: child.pid, said };
}

function ownedJson(dir: string): OwnedJson | null {
  try {
    return JSON.parse(Deno.readTextFileSync(`${dir}/${OWNED_FILE_NAME}`));
  } catch {
    return null;
  }
}

Deno.test("owning a replication with the mode changed, SIGKILLed: the next daemon adopts it and puts the mode back", () =>
  inTempDir("waspd-mode-kill-", async (dir) => {
    const first = await killedAfterMode(dir);
    assert.equal(first.said.mode, 1, "m set the mode to 1");
    const left = ownedJson(dir);
    assert.equal(left?.owner_pid, first.pid);
    assert.equal(left?.mode_found, -1, "the mode found is on record");
    assert.ok(left?.entries.some((e) => e.pid === SIM_PIDS.stream && e.state === "on"));

    const host = new SimHost({ nodes: 4, seed: 3, manualClock: true, stateDir: dir });
    assert.equal(host.kernel.mode, 1, "killed: nothing put the mode back");
    const daemon = await Daemon.open(host, { ...defaultConfig(), simNodes: 4 });
    let undone: string[] = [];
    try {
      const said = daemon.events.takeNew().map((e) => `${e.kind}: ${e.message}`);
      const from = `waspd pid ${first.pid}, which exited without its undo`;
      assert.ok(
        said.some((s) => s.startsWith(`info: ownership: adopted pid ${SIM_PIDS.stream} (stream)`)),
        said.join("\n"),
      );
      assert.ok(
        said.includes(`mode: ownership: /proc/mitosis/mode restored to -1 (changed by ${from})`),
        said.join("\n"),
      );
      assert.equal(host.kernel.mode, -1, "the mode the first daemon found");
      const record = ownedJson(dir);
      assert.equal(record?.owner_pid, Deno.pid, "the record names this daemon now");
      assert.equal(record?.mode_found, undefined, "the mode is put back: off the record");
      assert.ok(record?.entries.some((e) => e.pid === SIM_PIDS.stream && e.state === "on"));
    } finally {
      undone = await daemon.shutdown();
    }
    assert.ok(
      undone.includes(`replication turned off for pid ${SIM_PIDS.stream} (stream)`),
      undone.join("\n"),
    );
    assert.ok(!undone.some((line) => /mode/.test(line)), "the mode was not this daemon's change");
    assert.equal(ownedJson(dir), null, "a clean exit leaves no record");
    const machine = new SimHost({ nodes: 4, seed: 3, manualClock: true, stateDir: dir });
    assert.deepEqual(machine.kernel.replicated(), []);
    assert.equal(machine.kernel.mode, -1);
    await machine.close();
  }));
