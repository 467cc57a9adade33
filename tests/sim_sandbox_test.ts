/**
 * The simulator as a sandbox: with `--state-dir`, each command run of the
 * real binary works on the same saved machine, so a chain of manual
 * commands behaves as on a real host: replication, steering and pins are
 * kept, and the exit codes are the README's.
 */
import assert from "node:assert/strict";
import { runWaspd } from "./support/waspd.ts";
import { inTempDir } from "./support/scratch.ts";
import { SIM_PIDS } from "../src/sim/workloads.ts";
import type { Snapshot } from "../src/core/snapshot.ts";

const STREAM = String(SIM_PIDS.stream);

interface StatusJson {
  mitosis: { active: { pid: number; nodes: number[] }[] };
}

Deno.test("--sim --state-dir: enable, steer, status, unpin and the daemon share one machine", () =>
  inTempDir("waspd-sandbox-", async (dir) => {
    const waspd = (...args: string[]) => runWaspd(["--sim", "--state-dir", dir, ...args]);

    const enable = await waspd("enable", STREAM);
    assert.equal(enable.code, 0, enable.stderr);
    assert.match(enable.stdout, /replication on for 2001 \(stream\) on nodes 0,1,2,3; pinned on/);

    // A fresh run: the replication enable left is there to steer.
    const steer = await waspd("steer", STREAM);
    assert.equal(steer.code, 0, steer.stderr);
    const pushed = /steering for 2001 \(stream\): ([-\d ]+)/.exec(steer.stdout);
    assert.ok(pushed, steer.stdout);

    // status sees both, and does not reset the saved machine.
    for (let i = 0; i < 2; i++) {
      const status = await waspd("status", "--json");
      assert.equal(status.code, 0, status.stderr);
      const active = (JSON.parse(status.stdout) as StatusJson).mitosis.active;
      assert.deepEqual(active.map((a) => a.pid), [SIM_PIDS.stream]);
      const text = await waspd("status");
      assert.match(text.stdout, new RegExp(`2001 stream +nodes 0,1,2,3 +steering ${pushed[1]!}`));
    }

    // The daemon on the same machine finds the pin enable left.
    const once = await waspd("--once", "--json");
    assert.equal(once.code, 0, once.stderr);
    const snapshot = JSON.parse(once.stdout.trim().split("\n").at(-1)!) as Snapshot;
    const stream = snapshot.processes.find((p) => p.pid === SIM_PIDS.stream);
    assert.equal(stream?.pinned, "on");
    assert.equal(stream?.status, "pinned-on");

    // unpin removes it (0); a second unpin finds none (3, as the README says).
    const unpin = await waspd("unpin", STREAM);
    assert.equal(unpin.code, 0, unpin.stderr);
    assert.match(unpin.stdout, /2001 \(stream\) unpinned/);
    const again = await waspd("unpin", STREAM);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /2001 \(stream\) is not pinned/);
  }));

Deno.test("--sim without --state-dir: unpin of a process with no pin exits 3, not 1", async () => {
  const unpin = await runWaspd(["--sim", "unpin", STREAM]);
  assert.equal(unpin.code, 3, unpin.stderr);
  assert.match(unpin.stderr, /is not pinned/);
});
