/**
 * The real host's pins as the daemon and the one-shot
 * commands use them (`FilePins`): bad files set aside and reported once,
 * never quoted; dead processes' pins pruned at start and on every write; a
 * cap on entries.
 */
import assert from "node:assert/strict";
import { libc } from "../src/ffi/libc.ts";
import { MAX_PINS } from "../src/core/pins.ts";
import { type ProcessKey, processKeyString } from "../src/core/types.ts";
import { FilePins } from "../src/sys/pins.ts";

// Opened before any test, so the resource sanitizer does not count it as a leak.
libc();

const NOW = Date.UTC(2026, 10, 30, 14, 0, 0);
const ASIDE = /\.bad-\d{8}T\d{6}Z(\.\d+)?$/;

interface World {
  dir: string;
  path: string;
  file: FilePins;
  alive: Set<string>;
  checks: string[];
  isAlive(key: ProcessKey): Promise<boolean>;
}

async function world(use: (w: World) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "waspd-pinstore-" });
  const path = `${dir}/pins.json`;
  const alive = new Set<string>();
  const checks: string[] = [];
  const isAlive = (key: ProcessKey) => {
    checks.push(processKeyString(key));
    return Promise.resolve(alive.has(processKeyString(key)));
  };
  try {
    await use({ dir, path, file: new FilePins(path, isAlive), alive, checks, isAlive });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function pinsText(pids: number[]): string {
  const since = "2026-11-30T13:00:00.000Z";
  return JSON.stringify({
    version: 1,
    pins: pids.map((pid) => ({ pid, start_time: pid, state: "on", since })),
  });
}

function asideNames(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => ASIDE.test(n)).sort();
}

Deno.test("a FIFO pins file: read does not block, the FIFO is set aside, reported once", () =>
  world(async ({ dir, path, file }) => {
    assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success);
    const first = await file.read();
    assert.equal(first.pins.size, 0);
    assert.equal(first.warnings.length, 1);
    assert.match(
      first.warnings[0] ?? "",
      new RegExp(`^pins: ${path}: not a regular file \\(a FIFO\\); moved aside to ${path}\\.bad-`),
    );
    assert.deepEqual((await file.read()).warnings, [], "reported once");
    const [aside] = asideNames(dir);
    assert.ok(Deno.lstatSync(`${dir}/${aside}`).isFifo);
    assert.equal([...Deno.readDirSync(dir)].length, 1);
  }));

Deno.test("600k entries (54 MB): over the size cap, set aside unread", () =>
  world(async ({ path, file, checks }) => {
    Deno.writeTextFileSync(path, pinsText(Array.from({ length: 600_000 }, (_, i) => i + 1)));
    const read = await file.read();
    assert.equal(read.pins.size, 0);
    assert.equal(read.warnings.length, 1);
    assert.match(read.warnings[0] ?? "", /larger than 1 MiB \(\d+ bytes\); moved aside/);
    assert.deepEqual(checks, [], "not one entry looked at");
  }));

Deno.test("more entries than the cap within 1 MiB: set aside too", () =>
  world(async ({ path, file }) => {
    const text = JSON.stringify({
      pins: new Array(MAX_PINS + 1).fill({ pid: 1, start_time: 1, state: "on" }),
    });
    assert.ok(text.length < 1024 * 1024);
    Deno.writeTextFileSync(path, text);
    const read = await file.read();
    assert.match(read.warnings[0] ?? "", /4097 entries, more than the 4096 allowed; moved aside/);
  }));

Deno.test("a link to /etc/shadow: nothing of the target in any warning, the link set aside", () =>
  world(async ({ dir, path, file }) => {
    Deno.symlinkSync("/etc/shadow", path);
    const read = await file.read();
    assert.equal(read.warnings.length, 1);
    assert.match(read.warnings[0] ?? "", /not a regular file \(a symbolic link\); moved aside/);
    assert.ok(Deno.lstatSync(`${dir}/${asideNames(dir)[0]}`).isSymlink);
  }));

Deno.test("garbage, empty and malformed files: set() warns and keeps the old file aside", () =>
  world(async ({ dir, path, file, alive }) => {
    alive.add("7@7");
    for (const [n, text] of ["garbage!", "", '{"pins":[{"pid":"x"}]}'].entries()) {
      Deno.writeTextFileSync(path, text);
      const warnings = await file.set({ pid: 7, startTime: 7 }, "on", NOW);
      assert.equal(warnings.length, 1, JSON.stringify(text));
      assert.match(warnings[0] ?? "", /; moved aside to /);
      const aside = asideNames(dir);
      assert.equal(aside.length, n + 1);
      const kept = aside.map((name) => Deno.readTextFileSync(`${dir}/${name}`));
      assert.ok(kept.includes(text), "the old content is kept, unchanged");
      assert.match(Deno.readTextFileSync(path), /"pid": 7,/);
    }
  }));

Deno.test("prune (the daemon's start) drops dead processes' pins and rewrites the file", () =>
  world(async ({ path, file, alive }) => {
    Deno.writeTextFileSync(path, pinsText([10, 11, 12]));
    alive.add("11@11");
    const pruned = await file.prune();
    assert.deepEqual(pruned.warnings, []);
    assert.deepEqual([...pruned.pins.keys()], ["11@11"], "prune returns the pins it kept");
    assert.deepEqual([...(await file.read()).pins.keys()], ["11@11"]);
    const mtime = Deno.statSync(path).mtime;
    // Nothing dead: the file is left as it is.
    assert.deepEqual((await file.prune()).warnings, []);
    assert.deepEqual(Deno.statSync(path).mtime, mtime);
  }));

Deno.test("every write prunes the pins of processes that are gone, keeping the one just set", () =>
  world(async ({ path, file, alive }) => {
    Deno.writeTextFileSync(path, pinsText([10, 11]));
    alive.add("11@11");
    // 20@20 is not in `alive`: the caller confirmed it, so its own pin stays.
    await file.set({ pid: 20, startTime: 20 }, "off", NOW);
    assert.deepEqual([...(await file.read()).pins.keys()].sort(), ["11@11", "20@20"]);
  }));

Deno.test("read each tick: an unchanged file is not read again, a changed one is", () =>
  world(async ({ path, file }) => {
    Deno.writeTextFileSync(path, pinsText([10, 11]));
    assert.deepEqual([...(await file.read()).pins.keys()], ["10@10", "11@11"]);
    // Same inode, size and mtime: the cached pins stand (the text is not read).
    const { mtime } = Deno.statSync(path);
    Deno.writeTextFileSync(path, pinsText([12, 13]));
    Deno.utimeSync(path, mtime!, mtime!);
    assert.deepEqual([...(await file.read()).pins.keys()], ["10@10", "11@11"]);
    // Any change of the stamp (here the mtime) reads the file again.
    Deno.utimeSync(path, mtime!, new Date(mtime!.getTime() + 1000));
    assert.deepEqual([...(await file.read()).pins.keys()], ["12@12", "13@13"]);
    // A rename over it (how waspd writes) is a new inode: read again.
    Deno.writeTextFileSync(`${path}.new`, pinsText([14, 15]));
    Deno.renameSync(`${path}.new`, path);
    assert.deepEqual([...(await file.read()).pins.keys()], ["14@14", "15@15"]);
  }));

Deno.test("read each tick: no file is no pins, and a file that appears (or goes) is seen at once", () =>
  world(async ({ path, file }) => {
    assert.deepEqual(await file.read(), { pins: new Map(), warnings: [] });
    assert.deepEqual(await file.read(), { pins: new Map(), warnings: [] });
    Deno.writeTextFileSync(path, pinsText([20]));
    assert.deepEqual([...(await file.read()).pins.keys()], ["20@20"]);
    Deno.removeSync(path);
    assert.deepEqual(await file.read(), { pins: new Map(), warnings: [] });
    Deno.writeTextFileSync(path, pinsText([21]));
    assert.deepEqual([...(await file.read()).pins.keys()], ["21@21"]);
  }));

Deno.test("read each tick: a good file swapped for a FIFO is judged afresh, not served from cache", () =>
  world(async ({ dir, path, file }) => {
    Deno.writeTextFileSync(path, pinsText([10]));
    assert.equal((await file.read()).pins.size, 1);
    Deno.removeSync(path);
    assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success);
    const swapped = await file.read();
    assert.equal(swapped.pins.size, 0);
    assert.match(swapped.warnings[0] ?? "", /not a regular file \(a FIFO\); moved aside/);
    assert.equal(asideNames(dir).length, 1);
  }));
