/**
 * The state directory's lock (src/sys/state_lock.ts), on real files: an
 * enforcing daemon's claim creates and holds it; a probe (advisory mode,
 * --once) leaves nothing behind where there is no lock, and still sees a
 * holder where there is one.
 */
import assert from "node:assert/strict";
import { LockUnusable } from "../src/core/ownership_record.ts";
import { LOCK_FILE_NAME, lockStateFile } from "../src/sys/state_lock.ts";
import { libc } from "../src/ffi/libc.ts";
import { inTempDir } from "./support/scratch.ts";

// libc stays open for the whole file (the sanitizer counts a library opened inside a test).
libc();

Deno.test("a probe where no waspd ever ran creates neither the directory nor the lock file", async () => {
  await inTempDir("waspd-lock-", (dir) => {
    const stateDir = `${dir}/waspd`;
    const probe = lockStateFile(`${stateDir}/${LOCK_FILE_NAME}`, 4242, false);
    assert.equal(typeof probe, "object");
    if (typeof probe === "object") probe.release();
    assert.throws(() => Deno.lstatSync(stateDir), Deno.errors.NotFound);
  });
});

Deno.test("a claim creates and holds the lock; a probe beside it names the holder", async () => {
  await inTempDir("waspd-lock-", (dir) => {
    const path = `${dir}/${LOCK_FILE_NAME}`;
    const held = lockStateFile(path, 4242);
    assert.equal(typeof held, "object");
    assert.equal(Deno.readTextFileSync(path), "4242\n");
    // flock locks belong to the open file: a second open, even in this process, conflicts.
    const probe = lockStateFile(path, 5151, false);
    assert.equal(typeof probe, "string");
    assert.match(probe as string, /another waspd \(pid 4242\)/);
    if (typeof held === "object") held.release();
    const after = lockStateFile(path, 5151, false);
    assert.equal(typeof after, "object");
    if (typeof after === "object") after.release();
    assert.equal(Deno.readTextFileSync(path), "4242\n"); // a probe writes nothing
  });
});

Deno.test("a FIFO, a link or a directory at the lock: claim and probe refuse at once, never hang", async () => {
  await inTempDir("waspd-lock-", async (dir) => {
    const path = `${dir}/${LOCK_FILE_NAME}`;
    const makers: [string, () => Promise<void> | void][] = [
      ["a FIFO", async () => {
        assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success);
      }],
      ["a symbolic link", () => {
        Deno.writeTextFileSync(`${dir}/elsewhere`, "");
        Deno.symlinkSync(`${dir}/elsewhere`, path);
      }],
      ["a dangling symbolic link", () => Deno.symlinkSync(`${dir}/nowhere`, path)],
      ["a directory", () => Deno.mkdirSync(path)],
    ];
    for (const [what, make] of makers) {
      await make();
      for (const create of [true, false]) {
        assert.throws(
          () => lockStateFile(path, 4242, create),
          (error: Error) =>
            error instanceof LockUnusable && error.message.includes(path) &&
            /cannot lock it/.test(error.message),
          `${what}, ${create ? "claim" : "probe"}`,
        );
      }
      Deno.removeSync(path);
    }
    // Nothing was written through the link.
    assert.equal(Deno.readTextFileSync(`${dir}/elsewhere`), "");
    assert.throws(() => Deno.lstatSync(`${dir}/nowhere`), Deno.errors.NotFound);
  });
});

Deno.test("the holder's pid is written through the locked file, replacing a longer one", async () => {
  await inTempDir("waspd-lock-", (dir) => {
    const path = `${dir}/${LOCK_FILE_NAME}`;
    Deno.writeTextFileSync(path, "123456789\n");
    const held = lockStateFile(path, 42);
    assert.equal(typeof held, "object");
    assert.equal(Deno.readTextFileSync(path), "42\n");
    if (typeof held === "object") held.release();
  });
});

Deno.test("a claim waits out another process's brief hold instead of refusing", async () => {
  await inTempDir("waspd-lock-", async (dir) => {
    const path = `${dir}/${LOCK_FILE_NAME}`;
    Deno.writeTextFileSync(path, "");
    // util-linux flock(1) holds the lock for 20 ms, as a probe would for an instant.
    const holder = new Deno.Command("flock", { args: ["-x", path, "sleep", "0.02"] }).spawn();
    for (;;) { // until flock(1) holds it
      const probe = lockStateFile(path, 5151, false);
      if (typeof probe === "string") break;
      probe.release();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const claim = lockStateFile(path, 4242); // retries 3 x 50 ms before it refuses
    assert.equal(typeof claim, "object", String(claim));
    if (typeof claim === "object") claim.release();
    assert.equal((await holder.status).success, true);
  });
});
