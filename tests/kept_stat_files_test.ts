/**
 * The scan's kept stat files on the real /proc: a kept file is read again
 * afresh, a process that went is "gone" (never its old text), the files of
 * processes no scan read are closed, and the limit holds.
 */
import assert from "node:assert/strict";
import { cString, libc } from "../src/ffi/libc.ts";
import { KeptStatFiles } from "../src/sys/kept_stat_files.ts";
import { SmallFileReader } from "../src/sys/small_read.ts";
import { parseStatBytes } from "../src/sys/proc_stat.ts";
import { listProcesses } from "../src/sys/procfs.ts";

// Opened before any test, so the resource sanitizer does not count it as a leak.
libc();

const statPath = (pid: number) => cString(`/proc/${pid}/stat`);
const openFds = () => [...Deno.readDirSync("/proc/self/fd")].length;

function readStat(files: KeptStatFiles, reader: SmallFileReader, pid: number) {
  const length = files.read(pid, statPath(pid), reader);
  return length === null ? null : parseStatBytes(reader.buffer, length);
}

Deno.test("a kept stat file is read afresh each scan, and closed once no scan reads it", () => {
  const files = new KeptStatFiles(10);
  const reader = new SmallFileReader();
  const before = openFds();
  const first = readStat(files, reader, Deno.pid);
  assert.equal(first?.pid, Deno.pid);
  assert.equal(files.size, 1);
  assert.equal(openFds(), before + 1);
  files.endScan();
  // Fault in fresh pages: the kept file shows the new count, not the first text.
  const pages = new Uint8Array(16 << 20);
  for (let i = 0; i < pages.length; i += 4096) pages[i] = 1;
  const second = readStat(files, reader, Deno.pid);
  assert.ok(second !== null && second.minorFaults > first!.minorFaults);
  assert.equal(files.size, 1, "the same file, not a second one");
  files.endScan();
  // A scan that does not read it closes it.
  files.endScan();
  assert.equal(files.size, 0);
  assert.equal(openFds(), before);
});

Deno.test("a process that went reads as gone through its kept file, and its file is closed", async () => {
  const files = new KeptStatFiles(10);
  const reader = new SmallFileReader();
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    assert.equal(readStat(files, reader, child.pid)?.pid, child.pid);
    files.endScan();
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assert.equal(files.read(child.pid, statPath(child.pid), reader), null);
  assert.equal(files.size, 0);
});

Deno.test("past the limit processes are read the plain way; no file is kept with limit 0", () => {
  const reader = new SmallFileReader();
  const none = new KeptStatFiles(0);
  const before = openFds();
  assert.equal(readStat(none, reader, Deno.pid)?.pid, Deno.pid);
  assert.equal(none.size, 0);
  assert.equal(openFds(), before);
  const one = new KeptStatFiles(1);
  assert.equal(readStat(one, reader, Deno.pid)?.pid, Deno.pid);
  assert.equal(readStat(one, reader, 1)?.pid, 1);
  assert.equal(one.size, 1);
  one.close();
  assert.equal(one.size, 0);
  assert.equal(openFds(), before);
});

Deno.test("a scan through kept files lists what a plain scan lists", async () => {
  const files = new KeptStatFiles(100_000);
  const plain = await listProcesses("/proc");
  const kept = await listProcesses("/proc", undefined, files);
  const again = await listProcesses("/proc", undefined, files);
  const keys = (ps: { id: string }[]) => new Set(ps.map((p) => p.id));
  // Processes come and go meanwhile: the long-lived ones are in all three.
  const stable = [...keys(plain)].filter((k) => keys(kept).has(k) && keys(again).has(k));
  assert.ok(stable.length >= plain.length - 5, `${stable.length} of ${plain.length}`);
  assert.ok(files.size >= stable.length);
  files.close();
});

Deno.test("a process whose stat text did not change is the same object; one that ran is made anew", async () => {
  const files = new KeptStatFiles(100_000);
  const child = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    // Until it sleeps, the child's stat still changes: wait for two equal scans.
    let first = (await listProcesses("/proc", undefined, files)).find((p) => p.pid === child.pid);
    let second = first;
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      first = second;
      second = (await listProcesses("/proc", undefined, files)).find((p) => p.pid === child.pid);
      if (first === second) break;
    }
    assert.ok(second !== undefined);
    assert.equal(first, second, "the sleeping child is the object of the scan before");
    assert.equal(second.state, "S");
    // This process runs between scans: its text differs, so it is parsed again.
    const selfBefore = (await listProcesses("/proc", undefined, files)).find((p) =>
      p.pid === Deno.pid
    );
    const pages = new Uint8Array(8 << 20);
    for (let i = 0; i < pages.length; i += 4096) pages[i] = 1;
    const selfAfter = (await listProcesses("/proc", undefined, files)).find((p) =>
      p.pid === Deno.pid
    );
    assert.notEqual(selfBefore, selfAfter);
    assert.ok(selfAfter!.minorFaults > selfBefore!.minorFaults);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    files.close();
  }
});
