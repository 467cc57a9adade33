/**
 * The hardened pins file (issue 13 rows 2-6) as the daemon and the one-shot
 * commands use it: bad files set aside and reported once, never quoted;
 * dead processes' pins pruned at start and on every write; a cap on entries.
 */
import assert from "node:assert/strict";
import { libc } from "../src/ffi/libc.ts";
import { MAX_PINS } from "../src/core/pins_decode.ts";
import { processKeyString } from "../src/core/types.ts";
import { PinsFile } from "../src/sys/pins_file.ts";
import { formatPins } from "../src/core/pins.ts";

// Opened before any test, so the resource sanitizer does not count it as a leak.
libc();

const NOW = Date.UTC(2026, 10, 30, 14, 0, 0);

async function world(
  use: (
    w: { dir: string; path: string; file: PinsFile; alive: Set<string>; checks: string[] },
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "waspd-pinsfile-" });
  const path = `${dir}/pins.json`;
  const alive = new Set<string>();
  const checks: string[] = [];
  const file = new PinsFile({
    path,
    isAlive: (key) => {
      checks.push(processKeyString(key));
      return Promise.resolve(alive.has(processKeyString(key)));
    },
    encode: formatPins,
    wallNow: () => NOW,
  });
  try {
    await use({ dir, path, file, alive, checks });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function pinsText(pids: number[]): string {
  return JSON.stringify({
    version: 1,
    pins: pids.map((pid) => ({
      pid,
      start_time: pid,
      state: "on",
      since: "2026-11-30T13:00:00.000Z",
    })),
  });
}

Deno.test("a FIFO pins file: read does not block, the FIFO is set aside, reported once", () =>
  world(async ({ dir, path, file }) => {
    assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success);
    const first = await file.read();
    assert.equal(first.pins.size, 0);
    assert.deepEqual(first.warnings, [
      `pins: ${path}: not a regular file (a FIFO); moved aside to ${path}.bad-20261130T140000Z`,
    ]);
    assert.deepEqual((await file.read()).warnings, []);
    assert.ok(Deno.lstatSync(`${path}.bad-20261130T140000Z`).isFifo);
    assert.deepEqual([...Deno.readDirSync(dir)].length, 1);
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
  world(async ({ path, file }) => {
    Deno.symlinkSync("/etc/shadow", path);
    const read = await file.read();
    assert.deepEqual(read.warnings, [
      `pins: ${path}: not a regular file (a symbolic link); moved aside to ${path}.bad-20261130T140000Z`,
    ]);
  }));

Deno.test("garbage, empty and malformed files: set() warns and keeps the old file aside", () =>
  world(async ({ dir, path, file, alive }) => {
    alive.add("7@7");
    for (const [n, text] of ["garbage!", "", '{"pins":[{"pid":"x"}]}'].entries()) {
      Deno.writeTextFileSync(path, text);
      const warnings = await file.set({ pid: 7, startTime: 7 }, "on", NOW);
      assert.equal(warnings.length, 1, JSON.stringify(text));
      assert.match(warnings[0] ?? "", /; moved aside to /);
      const aside = [...Deno.readDirSync(dir)].map((e) => e.name).filter((name) =>
        name.includes(".bad-")
      );
      assert.equal(aside.length, n + 1);
      const kept = aside.map((name) => Deno.readTextFileSync(`${dir}/${name}`));
      assert.ok(kept.includes(text), "the old content is kept, unchanged");
      assert.match(Deno.readTextFileSync(path), /"pid": 7,/);
    }
  }));

Deno.test("dead processes' pins are pruned at start (first read) and on every write", () =>
  world(async ({ path, file, alive, checks }) => {
    Deno.writeTextFileSync(path, pinsText([10, 11, 12]));
    alive.add("11@11");
    const start = await file.read();
    assert.deepEqual([...start.pins.keys()], ["11@11"]);
    assert.deepEqual(start.warnings, []);
    assert.doesNotMatch(Deno.readTextFileSync(path), /"pid": 1[02],/, "rewritten without them");
    // Later reads (every tick) do not check liveness again.
    checks.length = 0;
    await file.read();
    assert.deepEqual(checks, []);
    // A write prunes what died since.
    alive.delete("11@11");
    alive.add("20@20");
    await file.set({ pid: 20, startTime: 20 }, "off", NOW);
    assert.doesNotMatch(Deno.readTextFileSync(path), /"pid": 11,/);
    assert.match(Deno.readTextFileSync(path), /"pid": 20,/);
  }));
