/**
 * The undo-on-exit path for real signals: waspd runs as a child process
 * (JSON lines), gets SIGTERM or SIGINT, undoes what it changed, says so on
 * stderr and exits 0. Against the simulated machine the undo has replication
 * to turn off; against this real (stock-kernel) host it runs in advisory mode
 * and must still exit cleanly.
 */
import assert from "node:assert/strict";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  snapshots: { daemon: { tick: number; replicated: number }; simulated: boolean }[];
}

/** Start waspd, wait until `ready` holds for a snapshot, send `signal`, collect. */
async function runUntil(
  args: string[],
  ready: (snapshot: Run["snapshots"][number]) => boolean,
  signal: Deno.Signal,
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  const stderrText = new Response(child.stderr).text();
  const snapshots: Run["snapshots"] = [];
  let stdout = "";
  let signalled = false;
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    stdout += text;
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const snapshot = JSON.parse(line);
      snapshots.push(snapshot);
      if (!signalled && ready(snapshot)) {
        signalled = true;
        child.kill(signal);
      }
    }
  }
  const status = await child.status;
  return { code: status.code, stdout, stderr: await stderrText, snapshots };
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`simulated machine: ${signal} turns off the replication waspd turned on, exit 0`, async () => {
    const run = await runUntil(
      ["--sim", "--json", "--time-scale", "50", "-u", "500", "-i", "5000", "-y", "1000"],
      (s) => s.daemon.replicated >= 1,
      signal,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.snapshots.every((s) => s.simulated === true));
    assert.ok(run.snapshots.some((s) => s.daemon.replicated >= 1), "something was replicated");
    assert.match(run.stderr, /replication turned off for pid \d+/);
  });
}

Deno.test("this host (stock kernel): SIGTERM stops the advisory daemon cleanly, exit 0", async () => {
  const run = await runUntil(
    ["--json", "-u", "200", "-i", "60000"],
    (s) => s.daemon.tick >= 2,
    "SIGTERM",
  );
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.snapshots.length >= 2);
  assert.ok(run.snapshots.every((s) => s.simulated === false));
  // Advisory: nothing was changed, so nothing is undone.
  assert.doesNotMatch(run.stderr, /replication turned off/);
});

Deno.test("not a terminal and no --json: one line pointing at --json, exit 2", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.equal(out.stdout.length, 0, "no escape codes, no output at all");
  const err = new TextDecoder().decode(out.stderr).trim();
  assert.equal(err.split("\n").length, 1);
  assert.match(err, /--json/);
});
