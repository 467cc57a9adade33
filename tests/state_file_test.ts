/**
 * The hardened state-file reader and writer: only a
 * regular file is read, never past the size cap, a bad file is set aside and
 * reported once without its content, and writes replace (never write
 * through) a link.
 */
import assert from "node:assert/strict";
import { libc, O_CLOEXEC, O_NONBLOCK, O_RDONLY, S_IFMT, S_IFREG } from "../src/ffi/libc.ts";
import {
  asidePath,
  loadStateFile,
  readStateFile,
  ReportOnce,
  STATE_FILE_MAX_BYTES,
  writeStateFile,
} from "../src/sys/state_file.ts";
import { canMknod, inTempDir } from "./support/scratch.ts";

// Opened before any test, so the resource sanitizer does not count it as a leak.
libc();

const inStateDir = (use: (dir: string) => Promise<void> | void) => inTempDir("waspd-state-", use);

const accept = (text: string) => ({ ok: true as const, value: text });

Deno.test("a regular file is read; a missing one is missing", () =>
  inStateDir((dir) => {
    assert.deepEqual(readStateFile(`${dir}/none.json`), { kind: "missing" });
    Deno.writeTextFileSync(`${dir}/ok.json`, '{"pins":[]}');
    assert.deepEqual(readStateFile(`${dir}/ok.json`), { kind: "ok", text: '{"pins":[]}' });
  }));

Deno.test("a FIFO is bad, and reading it does not block", () =>
  inStateDir(async (dir) => {
    const path = `${dir}/pins.json`;
    const made = await new Deno.Command("mkfifo", { args: [path] }).output();
    assert.ok(made.success, "mkfifo");
    // No writer ever opens it: a blocking open would hang this test forever.
    assert.deepEqual(readStateFile(path), { kind: "bad", reason: "not a regular file (a FIFO)" });
  }));

Deno.test("a directory, and a symlink to anything (/dev/zero, /etc/shadow), are bad", () =>
  inStateDir((dir) => {
    Deno.mkdirSync(`${dir}/d`);
    assert.deepEqual(readStateFile(`${dir}/d`), {
      kind: "bad",
      reason: "not a regular file (a directory)",
    });
    for (const target of ["/dev/zero", "/etc/shadow", "/etc/hostname"]) {
      Deno.symlinkSync(target, `${dir}/link`);
      assert.deepEqual(readStateFile(`${dir}/link`), {
        kind: "bad",
        reason: "not a regular file (a symbolic link)",
      });
      Deno.removeSync(`${dir}/link`);
    }
  }));

Deno.test({
  name: "a device node is bad, and is never opened",
  ignore: !canMknod(),
  fn: () =>
    inStateDir(async (dir) => {
      const path = `${dir}/pins.json`;
      assert.ok(
        (await new Deno.Command("mknod", { args: [path, "c", "1", "5"] }).output()).success,
      );
      assert.deepEqual(readStateFile(path), {
        kind: "bad",
        reason: "not a regular file (a character device)",
      });
    }),
});

Deno.test("over the size cap: bad without reading it; exactly the cap is fine", () =>
  inStateDir((dir) => {
    const path = `${dir}/big.json`;
    Deno.writeFileSync(path, new Uint8Array(STATE_FILE_MAX_BYTES + 1).fill(0x20));
    const read = readStateFile(path);
    assert.equal(read.kind, "bad");
    assert.match((read as { reason: string }).reason, /^larger than 1 MiB \(1048577 bytes\)$/);
    Deno.writeFileSync(path, new Uint8Array(STATE_FILE_MAX_BYTES).fill(0x20));
    assert.equal(readStateFile(path).kind, "ok");
    Deno.writeFileSync(path, new Uint8Array(11).fill(0x20));
    assert.equal(readStateFile(path, 10).kind, "bad");
  }));

Deno.test("invalid UTF-8 is bad", () =>
  inStateDir((dir) => {
    Deno.writeFileSync(`${dir}/x`, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]));
    assert.deepEqual(readStateFile(`${dir}/x`), { kind: "bad", reason: "not UTF-8 text" });
  }));

Deno.test("loadStateFile sets a bad file aside, once, naming it but never quoting it", () =>
  inStateDir((dir) => {
    const path = `${dir}/pins.json`;
    const secret = "root:$6$very-secret-hash:20000:0:99999:7:::\n";
    Deno.writeTextFileSync(path, secret);
    const nowMs = Date.UTC(2026, 10, 30, 13, 52, 25);
    const decode = (text: string) =>
      text.startsWith("{")
        ? { ok: true as const, value: text }
        : { ok: false as const, reason: "not JSON" };
    const first = loadStateFile(path, "pins", decode, nowMs);
    assert.equal(first.value, null);
    const aside = `${path}.bad-20261130T135225Z`;
    assert.equal(first.warning, `pins: ${path}: not JSON; moved aside to ${aside}`);
    assert.equal(Deno.readTextFileSync(aside), secret, "kept for the operator, unchanged");
    // Set aside: the next read finds nothing, so nothing is reported again.
    assert.deepEqual(loadStateFile(path, "pins", decode, nowMs), { value: null, warning: null });
    // A second bad file within the same second gets its own name.
    Deno.writeTextFileSync(path, secret);
    assert.match(loadStateFile(path, "pins", decode, nowMs).warning ?? "", /\.bad-\S+Z\.1$/);
    assert.doesNotMatch(JSON.stringify(first), /root|secret/);
  }));

Deno.test("a symlink to /etc/shadow is moved aside itself; the target is untouched", () =>
  inStateDir((dir) => {
    Deno.writeTextFileSync(`${dir}/target`, "root:secret\n");
    Deno.symlinkSync(`${dir}/target`, `${dir}/pins.json`);
    const loaded = loadStateFile(`${dir}/pins.json`, "pins", accept, 0);
    assert.equal(loaded.value, null);
    assert.match(loaded.warning ?? "", /a symbolic link\); moved aside/);
    assert.equal(Deno.lstatSync(asidePath(`${dir}/pins.json`, 0)).isSymlink, true);
    assert.equal(Deno.readTextFileSync(`${dir}/target`), "root:secret\n");
  }));

Deno.test("a bad file that cannot be moved aside is reported, and ReportOnce says it once", () =>
  inStateDir((dir) => {
    Deno.mkdirSync(`${dir}/ro`);
    Deno.writeTextFileSync(`${dir}/ro/pins.json`, "garbage");
    const decode = () => ({ ok: false as const, reason: "not JSON" });
    // Every name it could be moved to is taken, so setAside fails as it would on a
    // read-only /run (which root's permission bypass makes hard to set up in a test).
    Deno.mkdirSync(`${asidePath(`${dir}/ro/pins.json`, 0)}`);
    for (let n = 1; n < 100; n++) Deno.mkdirSync(`${asidePath(`${dir}/ro/pins.json`, 0)}.${n}`);
    const once = new ReportOnce();
    const warnings: string[] = [];
    for (let tick = 0; tick < 5; tick++) {
      warnings.push(
        ...once.filter(loadStateFile(`${dir}/ro/pins.json`, "pins", decode, 0).warning),
      );
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /not JSON; ignored \(could not move it aside/);
    assert.deepEqual(once.filter(null), []);
    assert.equal(once.filter("again").length, 1, "a new problem is reported");
  }));

Deno.test("writeStateFile replaces a symlink at the name, never writing through it", () =>
  inStateDir((dir) => {
    Deno.writeTextFileSync(`${dir}/victim`, "keep me\n");
    Deno.symlinkSync(`${dir}/victim`, `${dir}/pins.json`);
    writeStateFile(`${dir}/pins.json`, "{}\n");
    assert.equal(Deno.readTextFileSync(`${dir}/victim`), "keep me\n");
    assert.equal(Deno.lstatSync(`${dir}/pins.json`).isFile, true);
    assert.equal(Deno.readTextFileSync(`${dir}/pins.json`), "{}\n");
    writeStateFile(`${dir}/sub/dir/owned.json`, "x");
    assert.deepEqual([...Deno.readDirSync(`${dir}/sub/dir`)].map((e) => e.name), ["owned.json"]);
    assert.throws(() => writeStateFile(`${dir}/big`, "x".repeat(11), 10), /refusing to write/);
    assert.throws(() => Deno.lstatSync(`${dir}/big`), Deno.errors.NotFound);
  }));

Deno.test("libc fstat: the type bits and size read from struct stat are right", () =>
  inStateDir(async (dir) => {
    Deno.writeTextFileSync(`${dir}/f`, "12345");
    assert.ok((await new Deno.Command("mkfifo", { args: [`${dir}/p`] }).output()).success);
    const c = libc();
    for (const [name, type, size] of [["f", S_IFREG, 5], ["p", 0o010000, 0]] as const) {
      const fd = c.open(`${dir}/${name}`, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      try {
        const stat = c.fstat(fd);
        assert.equal(stat.mode & S_IFMT, type, name);
        assert.equal(stat.size, size, name);
      } finally {
        c.close(fd);
      }
    }
  }));
