import assert from "node:assert/strict";
import { libc } from "../src/ffi/libc.ts";
import { DEFAULT_EXCLUDED_NAMES, isExcludedName } from "../src/config.ts";
import { selectManageable } from "../src/core/discovery.ts";
import type { ProcessInfo } from "../src/core/types.ts";
import { processInfo } from "./support/process_info.ts";
import { listProcesses } from "../src/sys/procfs.ts";

// procfs reads through libc, which stays open for the process (by design): opened here,
// outside any test, so the resource sanitizer does not pin it on one.
libc();

const PROCS = new URL("./fixtures/proc-procs", import.meta.url).pathname;

/** The daemon's exclusion: names matching the configured patterns. */
const excluding = (patterns: readonly string[]) => (name: string) => isExcludedName(name, patterns);

function proc(pid: number, name: string, extra: Partial<ProcessInfo> = {}): ProcessInfo {
  return processInfo(pid, {
    startTime: 1000 + pid,
    name,
    state: "S",
    uid: 1000,
    rssKb: 4096,
    ...extra,
  });
}

Deno.test("selectManageable: drops kernel threads, zombies, dead, self and excluded names", () => {
  const processes = [
    proc(10, "graph500"),
    proc(11, "kworker/1:0", { kernelThread: true, ppid: 2 }),
    proc(12, "defunct", { state: "Z" }),
    proc(13, "dying", { state: "X" }),
    proc(14, "waspd-under-another-name"),
    proc(15, "systemd-journald"),
    proc(16, "sshd"),
    proc(17, "stopped-but-alive", { state: "T" }),
    proc(18, "mcf_r", { state: "R" }),
  ];
  const { managed, excluded } = selectManageable(processes, excluding(["systemd-*", "sshd"]), 14);
  assert.deepEqual(managed.map((p) => p.pid), [10, 17, 18]);
  assert.equal(excluded, 6);
});

Deno.test("selectManageable: exact names only match whole names; empty input", () => {
  const processes = [proc(1, "bash"), proc(2, "bashful"), proc(3, "my bash")];
  const { managed, excluded } = selectManageable(processes, excluding(["bash"]), 999);
  assert.deepEqual(managed.map((p) => p.name), ["bashful", "my bash"]);
  assert.equal(excluded, 1);
  assert.deepEqual(selectManageable([], excluding(DEFAULT_EXCLUDED_NAMES), 1), {
    managed: [],
    excluded: 0,
  });
});

Deno.test("selectManageable: a name with escape bytes is kept raw, not rewritten", () => {
  const hostile = proc(30, "my (app) \x1b[2J");
  const { managed } = selectManageable([hostile], excluding(["*2J"]), 1);
  assert.equal(managed.length, 0, "glob patterns see the raw name");
  assert.equal(
    selectManageable([hostile], excluding(["my"]), 1).managed[0]?.name,
    "my (app) \x1b[2J",
  );
});

Deno.test("fixture /proc through the default exclusion list", async () => {
  const { managed, excluded } = selectManageable(
    await listProcesses(PROCS),
    excluding(DEFAULT_EXCLUDED_NAMES),
    1500, // pretend the stopped "paused job" is waspd itself
  );
  // systemd (excluded name), kthreadd + kworker (kernel), zombie, self are dropped.
  assert.deepEqual(managed.map((p) => p.pid), [1200, 1300]);
  assert.equal(excluded, 5);
});

Deno.test("real /proc: waspd itself (selfPid) and kernel threads are never managed, even with no exclusions", async () => {
  const processes = await listProcesses();
  const { managed, excluded } = selectManageable(processes, excluding([]), Deno.pid);
  assert.ok(!managed.some((p) => p.pid === Deno.pid));
  assert.ok(!managed.some((p) => p.kernelThread));
  assert.equal(managed.length + excluded, processes.length);
});
