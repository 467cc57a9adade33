/**
 * Values read back from waspd's state files are ones the kernel can hold:
 * inherit 1 or -1, mode -1/0/1, pids in 1 .. PID_MAX_LIMIT - 1, masks and
 * steering within the node count. A file carrying anything else is bad as a
 * whole (set aside, never acted on): an edited owned.json must not make the
 * next waspd write 7 to /proc/mitosis/inherit as root.
 */
import assert from "node:assert/strict";
import { decodeOwned, encodeOwned, type OwnedRecord } from "../src/core/ownership_record.ts";
import { decodePins } from "../src/core/pins.ts";
import { PID_MAX_LIMIT } from "../src/core/kernel_values.ts";
import { Ownership } from "../src/daemon/ownership.ts";
import { takeOverOwnership } from "../src/daemon/takeover.ts";
import { decodeSim, encodeSim, type SavedSim } from "../src/sim/persist.ts";
import { fileOwnedStore, OWNED_FILE_NAME } from "../src/sys/ownership_file.ts";
import { libc } from "../src/ffi/libc.ts";
import { ownedEntry, T0, takeoverDeps } from "./support/ownership.ts";
import { inTempDir } from "./support/scratch.ts";

// The claim locks through libc: loaded once for the whole file.
libc();

function ownedJson(over: Record<string, unknown>, entry: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: 1,
    owner_pid: 100,
    entries: [{
      pid: 7,
      start_time: 70,
      name: "p7",
      state: "on",
      since: "2026-11-30T12:00:00.000Z",
      reason: "r",
      ...entry,
    }],
    ...over,
  });
}

Deno.test("owned.json: inherit_found is 1 or -1, nothing else", () => {
  for (const good of [1, -1]) {
    const decoded = decodeOwned(ownedJson({ inherit_found: good }));
    assert.ok(decoded.ok && decoded.value.inheritFound === good);
  }
  for (const bad of [7, 0, 2, -2, 1.5, "1", null]) {
    const decoded = decodeOwned(ownedJson({ inherit_found: bad }));
    assert.equal(decoded.ok, false, `inherit_found ${JSON.stringify(bad)}`);
    if (!decoded.ok) assert.match(decoded.reason, /inherit_found is not a value inherit holds/);
  }
});

Deno.test("owned.json: owner and entry pids within 1 .. PID_MAX_LIMIT - 1; text fields bounded", () => {
  assert.ok(decodeOwned(ownedJson({ owner_pid: PID_MAX_LIMIT - 1 })).ok);
  for (const bad of [0, -1, PID_MAX_LIMIT, 2 ** 40]) {
    assert.equal(decodeOwned(ownedJson({ owner_pid: bad })).ok, false, `owner_pid ${bad}`);
    assert.equal(decodeOwned(ownedJson({}, { pid: bad })).ok, false, `pid ${bad}`);
  }
  assert.equal(decodeOwned(ownedJson({}, { start_time: -1 })).ok, false);
  assert.equal(decodeOwned(ownedJson({}, { name: "x".repeat(5000) })).ok, false);
  assert.equal(decodeOwned(ownedJson({}, { reason: "x".repeat(5000) })).ok, false);
  // What waspd writes, it reads back: a long reason is cut, not refused.
  const record: OwnedRecord = {
    ownerPid: 100,
    entries: new Map([["7@70", { ...ownedEntry(7, "on"), reason: "y".repeat(5000) }]]),
  };
  assert.ok(decodeOwned(encodeOwned(record)).ok);
});

Deno.test("pins.json: a pin's pid within 1 .. PID_MAX_LIMIT - 1", () => {
  const pins = (pid: number) =>
    JSON.stringify({
      version: 1,
      pins: [{ pid, start_time: 5, state: "on", since: "2026-11-30T12:00:00.000Z" }],
    });
  assert.ok(decodePins(pins(PID_MAX_LIMIT - 1)).ok);
  for (const bad of [0, PID_MAX_LIMIT, 2 ** 40]) assert.equal(decodePins(pins(bad)).ok, false);
});

Deno.test("the simulated machine's file: mode, inherit, masks and steering the kernel can hold", () => {
  const good: SavedSim = {
    seed: 1,
    nodes: 4,
    nowMs: 1000,
    mode: -1,
    inherit: 1,
    processes: [{
      pid: 4100,
      startTime: 9,
      mask: 0b1111,
      steering: [0, 1, 2, 3, -1, -1, -1, -1],
      cacheOnly: false,
      enabledAtMs: 10,
    }],
  };
  assert.ok(decodeSim(encodeSim(good)).ok);
  const p = good.processes[0]!;
  const bad: [string, SavedSim][] = [
    ["mode 2", { ...good, mode: 2 }],
    ["inherit 0", { ...good, inherit: 0 }],
    ["inherit 7", { ...good, inherit: 7 }],
    ["mask beyond 4 nodes", { ...good, processes: [{ ...p, mask: 0b10000 }] }],
    ["negative mask", { ...good, processes: [{ ...p, mask: -1 }] }],
    ["steering to node 9", {
      ...good,
      processes: [{ ...p, steering: [9, -1, -1, -1, -1, -1, -1, -1] }],
    }],
    ["pid 0", { ...good, processes: [{ ...p, pid: 0 }] }],
    ["1000 nodes", { ...good, nodes: 1000 }],
  ];
  for (const [what, saved] of bad) assert.equal(decodeSim(encodeSim(saved)).ok, false, what);
});

Deno.test("takeover: an owned.json saying inherit_found 7 is set aside, inherit is never written", async () => {
  await inTempDir("waspd-values-", async (dir) => {
    const path = `${dir}/${OWNED_FILE_NAME}`;
    Deno.writeTextFileSync(path, ownedJson({ owner_pid: 99999, inherit_found: 7 }));
    const reports: string[] = [];
    const written: number[] = [];
    const report = (kind: string, message: string) => void reports.push(`${kind}: ${message}`);
    const ownership = new Ownership(fileOwnedStore(path), 222, () => T0, report);
    const verdicts = await takeOverOwnership(takeoverDeps(ownership, reports, {
      restoreInherit: (found) => (written.push(found), Promise.resolve(true)),
    }));
    ownership.release();
    assert.deepEqual(written, [], "nothing restored");
    assert.deepEqual(verdicts, [], "nothing adopted from it");
    assert.match(
      reports.join("\n"),
      /ownership record: .*inherit_found is not a value .*moved aside/,
    );
    assert.ok(!/restored to 7/.test(reports.join("\n")));
  });
});
