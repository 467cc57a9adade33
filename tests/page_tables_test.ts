/**
 * Page-table sizes: VmPTE parsed from /proc/PID/status (real /proc for this
 * process, a temporary tree for the odd cases), and the reader that reads
 * the processes in play every tick and the rest a few at a time.
 */
import assert from "node:assert/strict";
import { libc } from "../src/ffi/libc.ts";
import { parseVmPteKb, readPageTablesKb, readProcess } from "../src/sys/procfs.ts";
import { OUT_OF_PLAY_PER_TICK, PageTables, REFRESH_TICKS } from "../src/daemon/page_tables.ts";
import { keyed } from "../src/core/types.ts";

// procfs reads through libc, which stays open for the process (by design).
libc();

Deno.test("parseVmPteKb: the VmPTE line in KiB; absent or malformed is unknown", () => {
  assert.equal(
    parseVmPteKb("Name:\tx\nVmRSS:\t  1000 kB\nVmPTE:\t     188 kB\nVmSwap:\t0 kB\n"),
    188,
  );
  assert.equal(parseVmPteKb("Name:\tkthreadd\nThreads:\t1\n"), null, "a kernel thread has no mm");
  assert.equal(parseVmPteKb("VmPTE:\tlots kB\n"), null);
  assert.equal(parseVmPteKb("VmPTE:\t99999999999999999999 kB\n"), null);
});

Deno.test("readPageTablesKb: this process's own size; a wrong start time or no pid is unknown", async () => {
  const self = await readProcess("/proc", Deno.pid);
  assert.ok(self);
  const kb = readPageTablesKb("/proc", self);
  const expected = parseVmPteKb(await Deno.readTextFile(`/proc/${Deno.pid}/status`));
  assert.ok(kb !== null && kb > 0, String(kb));
  // Page tables may grow between the two reads: close, not equal.
  assert.ok(Math.abs(kb - expected!) <= 64, `${kb} vs ${expected}`);
  assert.equal(readPageTablesKb("/proc", { pid: Deno.pid, startTime: self.startTime + 1 }), null);
  assert.equal(readPageTablesKb("/proc", { pid: 4_194_303, startTime: 1 }), null);
});

Deno.test("PageTables: in play every tick, the rest a few per tick and again after a while", () => {
  const reads: number[] = [];
  const tables = new PageTables((key) => {
    reads.push(key.pid);
    return key.pid * 10;
  });
  const processes = Array.from({ length: 40 }, (_, i) => keyed({ pid: i + 1, startTime: 1 }));
  const inPlay = (key: string) => key === "1@1" || key === "40@1";
  const first = tables.update(processes, inPlay);
  // Both in play plus OUT_OF_PLAY_PER_TICK others.
  assert.equal(reads.length, 2 + OUT_OF_PLAY_PER_TICK);
  assert.equal(first.get("40@1"), 400);
  assert.equal(first.get("39@1"), null, "not read yet: unknown");
  reads.length = 0;
  for (let tick = 0; tick < 3; tick++) tables.update(processes, inPlay);
  const all = tables.update(processes, inPlay);
  assert.ok([...all.values()].every((kb) => kb !== null), "every process has a size by now");
  reads.length = 0;
  tables.update(processes, inPlay);
  assert.deepEqual(reads, [1, 40], "in play only, once the rest are fresh");
  for (let tick = 0; tick < REFRESH_TICKS; tick++) tables.update(processes, inPlay);
  assert.equal(reads.filter((pid) => pid === 2).length, 1, "an out-of-play size is read again");
  // A host that cannot tell: all unknown, nothing read.
  const blind = new PageTables(null).update(processes, () => true);
  assert.ok([...blind.values()].every((kb) => kb === null));
});
