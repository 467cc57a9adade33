/**
 * The allocation-free pieces of a /proc scan: pid paths in a kept buffer,
 * numeric directory entries from getdents64, stat parsed in a reused read
 * buffer (whose bytes past the file's length are stale and must be ignored).
 */
import assert from "node:assert/strict";
import { cString, libc } from "../src/ffi/libc.ts";
import { numericEntriesOrGone, numericNames } from "../src/sys/dir_entries.ts";
import { PidPaths } from "../src/sys/pid_paths.ts";
import { parseStat, parseStatBytes } from "../src/sys/proc_stat.ts";
import { SmallFileReader } from "../src/sys/small_read.ts";

// libc stays open for the process (by design): opened outside any test for the sanitizer.
libc();

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
const TAIL = "S 1 7 7 0 -1 4194304 11 0 12 0 1 2 0 0 20 0 3 0 9876 4096 25 x";

Deno.test("PidPaths: root/pid/suffix NUL-terminated, shorter pids after longer ones", () => {
  const paths = new PidPaths("/proc");
  const stat = cString("/stat");
  assert.equal(decode(paths.path(4294967295, stat)), "/proc/4294967295/stat");
  assert.equal(decode(paths.path(7, stat)), "/proc/7/stat", "no digits left from the longer pid");
  assert.equal(decode(paths.path(0, cString("/task"))), "/proc/0/task");
  assert.equal(decode(new PidPaths("/tmp/a b/é").path(12, stat)), "/tmp/a b/é/12/stat");
  for (const bad of [-1, 1.5, NaN, 2 ** 32]) {
    assert.throws(() => paths.path(bad, stat), RangeError, `pid ${bad}`);
  }
  assert.throws(() => paths.path(1, new TextEncoder().encode("/stat")), RangeError, "no NUL");
});

/** A struct linux_dirent64 record for `name`, padded to 8 bytes as the kernel does. */
function record(name: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const length = Math.ceil((19 + nameBytes.length + 1) / 8) * 8;
  const out = new Uint8Array(length);
  out[16] = length & 0xff;
  out[17] = length >> 8;
  out.set(nameBytes, 19);
  return out;
}

function records(...names: string[]): Uint8Array {
  const parts = names.map(record);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

Deno.test("numericNames: only all-digit names, in record order", () => {
  const ids: number[] = [];
  const buf = records(".", "..", "12", "self", "1a", "a1", "007", "4194304", "");
  numericNames(buf, buf.length, ids);
  assert.deepEqual(ids, [12, 7, 4194304]);
});

Deno.test("numericNames: a zero-length record stops the walk instead of looping", () => {
  const buf = records("5", "6");
  buf[16 + 24] = 0; // the second record ("6") claims length 0
  buf[17 + 24] = 0;
  const ids: number[] = [];
  numericNames(buf, buf.length, ids);
  assert.deepEqual(ids, [5]);
});

Deno.test("numericEntriesOrGone: real /proc, a big directory, a missing one, a file", () => {
  const pids = numericEntriesOrGone(cString("/proc"));
  assert.ok(pids?.includes(Deno.pid), "this process is listed");
  assert.deepEqual(pids, [...pids!].sort((a, b) => a - b), "ascending");
  assert.ok(numericEntriesOrGone(cString(`/proc/${Deno.pid}/task`))?.includes(Deno.pid));

  const dir = Deno.makeTempDirSync();
  try {
    // More names than one 32 KiB getdents64 call returns, and some that are not numbers.
    for (let i = 0; i < 3000; i++) Deno.writeTextFileSync(`${dir}/${i * 7}`, "");
    for (const name of ["x", "12x", "-3"]) Deno.writeTextFileSync(`${dir}/${name}`, "");
    const ids = numericEntriesOrGone(cString(dir));
    assert.deepEqual(ids, Array.from({ length: 3000 }, (_, i) => i * 7));
    assert.equal(numericEntriesOrGone(cString(`${dir}/missing`)), null);
    assert.throws(() => numericEntriesOrGone(cString(`${dir}/x`)), /ENOTDIR/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseStatBytes: the stale bytes after `length` in a reused buffer are ignored", () => {
  const reader = new SmallFileReader();
  const dir = Deno.makeTempDirSync();
  try {
    // A long file ending in ")" first, then a short stat over it: the stale ")" must not count.
    Deno.writeTextFileSync(`${dir}/long`, `99999 (x) y) z) ${TAIL} ${"1 ".repeat(40)} ) 0 (\n`);
    Deno.writeTextFileSync(`${dir}/short`, `42 (ab) ${TAIL}\n`);
    const long = reader.readOrGone(cString(`${dir}/long`))!;
    assert.equal(parseStatBytes(reader.buffer, long), null, "its last ')' leaves too few fields");
    const short = reader.readOrGone(cString(`${dir}/short`))!;
    assert.ok(short < long);
    const stat = parseStatBytes(reader.buffer, short);
    assert.equal(stat?.pid, 42);
    assert.equal(stat?.name, "ab", "the last ')' within the file, not a stale one");
    assert.equal(stat?.rssPages, 25);
    assert.equal(parseStatBytes(reader.buffer, 0), null, "empty");
    assert.equal(parseStatBytes(reader.buffer, 10), null, "cut short: fields missing");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseStat: numbers are whole fields, signs only where proc(5) has them", () => {
  assert.equal(parseStat(`-5 (n) ${TAIL}`), null, "a negative pid");
  assert.equal(parseStat(`  5 (n) ${TAIL}`)?.pid, 5, "leading blanks before the pid");
  assert.equal(
    parseStat(`5 (n) S 1 7 7 0 -1 4194304 11 0 12 0 1 2 0 0 20 0 3 0 9876 4096 -`),
    null,
  );
  assert.equal(parseStat(`5 (n) S 1 7 7 0 -1 42x 11 0 12 0 1 2 0 0 20 0 3 0 9876 4096 25`), null);
  const big = parseStat(`5 (n) S 1 7 7 0 -1 4194304 11 0 12 0 1 2 0 0 20 0 3 0 ${2 ** 40} 4096 -2`);
  assert.equal(big?.startTime, 2 ** 40, "start times past 32 bits");
  assert.equal(big?.rssPages, -2, "a signed field");
  assert.equal(parseStat(`5 (名前) ${TAIL}`)?.name, "名前", "UTF-8 names decode");
});

Deno.test("openC refuses a path without its NUL instead of letting C read past the buffer", () => {
  assert.throws(
    () => libc().openC(new TextEncoder().encode("/proc/self/stat"), 0),
    /not NUL-terminated/,
  );
});
