/**
 * Kernel threads seen through kept stat files are read only every few scans:
 * in between the scan takes them as they were, a pid that left the listing
 * is dropped at once, and a pid that a user process took since is read as
 * that process at the next due read. A fixture /proc in a temporary
 * directory stands in for the real one: its stat files are rewritten in
 * place, so a kept file reads the new text exactly as a /proc file would.
 */
import assert from "node:assert/strict";
import { libc } from "../src/ffi/libc.ts";
import { KeptStatFiles, KERNEL_THREAD_RECHECK_SCANS } from "../src/sys/kept_stat_files.ts";
import { listProcesses } from "../src/sys/procfs.ts";
import type { ProcessInfo } from "../src/core/types.ts";

// Opened before any test, so the resource sanitizer does not count it as a leak.
libc();

/** PF_KTHREAD | PF_NOFREEZE | PF_FORKNOEXEC, as a kworker shows them. */
const KTHREAD_FLAGS = 0x208040;
const PID = 50;

function kthreadStat(minorFaults: number, startTime = 500): string {
  return `${PID} (kworker/0:1) I 2 0 0 0 -1 ${KTHREAD_FLAGS} ${minorFaults} 0 0 0 0 0 0 0 ` +
    `20 0 1 0 ${startTime} 0 0\n`;
}

function userStat(minorFaults: number, startTime: number): string {
  return `${PID} (bash) S 1 ${PID} ${PID} 0 -1 4194304 ${minorFaults} 0 0 0 1 2 0 0 ` +
    `20 0 1 0 ${startTime} 8192000 900\n`;
}

interface Fixture {
  /** Rewrite PID's stat in place. */
  write: (text: string) => void;
  /** One scan through `files`; PID's process, if listed. */
  scan: () => Promise<ProcessInfo | undefined>;
  root: string;
  files: KeptStatFiles;
}

/**
 * Run `body` on a /proc with pid 1 (a user process) and PID (no stat yet),
 * scanned through kept files that read kernel threads every `every` scans;
 * the files are closed and the tree removed after, whatever happens.
 */
async function withFixture(every: number, body: (f: Fixture) => Promise<void>): Promise<void> {
  const root = Deno.makeTempDirSync({ prefix: "waspd-kthreads-" });
  const files = new KeptStatFiles(100, every);
  try {
    Deno.mkdirSync(`${root}/1`);
    Deno.writeTextFileSync(`${root}/1/stat`, userStat(7, 100).replace(`${PID} (bash)`, "1 (init)"));
    Deno.mkdirSync(`${root}/${PID}`);
    await body({
      write: (text) => Deno.writeTextFileSync(`${root}/${PID}/stat`, text),
      scan: async () => (await listProcesses(root, undefined, files)).find((p) => p.pid === PID),
      root,
      files,
    });
  } finally {
    files.close();
    Deno.removeSync(root, { recursive: true });
  }
}

Deno.test("a kernel thread is read every N scans, phased by pid; in between it is as it was", async () => {
  await withFixture(4, async ({ write, scan }) => {
    // Each scan sees a new fault count in the file: it shows only when the file is read.
    const seen: number[] = [];
    for (let n = 1; n <= 12; n++) {
      write(kthreadStat(n));
      const process = await scan();
      assert.ok(process?.kernelThread);
      seen.push(process.minorFaults);
    }
    // Read at scan 1; first sight rests PID % every scans (2), then every - 1 (3).
    assert.deepEqual(seen, [1, 1, 1, 4, 4, 4, 4, 8, 8, 8, 8, 12]);
  });
});

Deno.test("a kernel thread whose text is unchanged is still read again when due", async () => {
  await withFixture(3, async ({ write, scan }) => {
    write(kthreadStat(1));
    const first = await scan();
    // Unchanged text at the due reads keeps the object, and the rest starts again.
    for (let n = 2; n <= 7; n++) assert.equal(await scan(), first, `scan ${n}`);
    write(kthreadStat(2));
    const shown: number[] = [];
    for (let n = 8; n <= 11; n++) shown.push((await scan())!.minorFaults);
    // Read at scans 1, 4, 7, 10 (PID % 3 = 2 scans of rest at first sight, then 2).
    assert.deepEqual(shown, [1, 1, 2, 2]);
  });
});

Deno.test("a kernel thread that left the listing is dropped at once and its file closed", async () => {
  await withFixture(10, async ({ write, scan, root, files }) => {
    write(kthreadStat(1));
    assert.ok((await scan())?.kernelThread);
    assert.equal(files.size, 2);
    Deno.removeSync(`${root}/${PID}`, { recursive: true });
    assert.equal(await scan(), undefined);
    assert.equal(files.size, 1, "only pid 1's file stays open");
  });
});

Deno.test("a pid a user process took from a kernel thread is that process by the next due read", async () => {
  await withFixture(4, async ({ write, scan }) => {
    write(kthreadStat(1));
    assert.ok((await scan())?.kernelThread);
    // The kernel thread went and its pid names a user process now.
    write(userStat(3, 9000));
    const scans: (ProcessInfo | undefined)[] = [];
    for (let n = 2; n <= 4; n++) scans.push(await scan());
    // Scans 2 and 3 still take the kernel thread (PID % 4 = 2 scans of rest); scan 4 reads.
    assert.deepEqual(scans.map((p) => p?.kernelThread), [true, true, false]);
    assert.equal(scans[2]?.startTime, 9000);
    assert.equal(scans[2]?.name, "bash");
    // A user process is read every scan: its next change shows at once.
    write(userStat(4, 9000));
    assert.equal((await scan())?.minorFaults, 4);
  });
});

Deno.test("recheck every scan reads kernel threads each time, and the default is a few scans", async () => {
  assert.ok(KERNEL_THREAD_RECHECK_SCANS > 1 && KERNEL_THREAD_RECHECK_SCANS <= 30);
  await withFixture(1, async ({ write, scan }) => {
    for (let n = 1; n <= 4; n++) {
      write(kthreadStat(n));
      assert.equal((await scan())?.minorFaults, n);
    }
  });
});
