/**
 * The pins file as untrusted input: all or nothing, a
 * reason that never quotes the file, a cap on entries; and the cap on writes.
 */
import assert from "node:assert/strict";
import { capPins, decodePins, MAX_PINS, type Pin } from "../src/core/pins.ts";

Deno.test("decodePins: what waspd writes is read back", () => {
  const text = JSON.stringify({
    version: 1,
    pins: [
      { pid: 10, start_time: 1, state: "on", since: "2026-01-01T00:00:00.000Z" },
      { pid: 11, start_time: 2, state: "off", since: "2026-01-01T00:00:01.000Z" },
    ],
  });
  const decoded = decodePins(text);
  assert.ok(decoded.ok);
  assert.deepEqual([...decoded.value.keys()], ["10@1", "11@2"]);
  assert.deepEqual(decoded.value.get("11@2"), {
    pid: 11,
    startTime: 2,
    state: "off",
    sinceMs: Date.UTC(2026, 0, 1, 0, 0, 1),
  });
});

Deno.test("decodePins: garbage, empty and malformed files are bad, and the reason quotes nothing", () => {
  const shadow = "root:*:20222:0:99999:7:::\ndaemon:*:20222:0:99999:7:::\n";
  const cases: [string, string][] = [
    ["", "empty"],
    ["  \n", "empty"],
    [shadow, "not JSON"],
    ['{"pins": "root:*:2022"}', 'not a pins file (no "pins" list)'],
    ["null", 'not a pins file (no "pins" list)'],
    ['{"version": 7, "pins": []}', "not a version 1 pins file"],
    ['{"pins":[{"pid":1,"start_time":2,"state":"maybe root:*"}]}', "entry 0 is malformed"],
    [
      '{"pins":[{"pid":1,"start_time":2,"state":"on"},{"pid":-3,"start_time":4,"state":"on"}]}',
      "entry 1 is malformed",
    ],
    ['{"pins":[{"pid":1.5,"start_time":2,"state":"on"}]}', "entry 0 is malformed"],
    ['{"pins":["root"]}', "entry 0 is malformed"],
  ];
  for (const [text, reason] of cases) {
    assert.deepEqual(decodePins(text), { ok: false, reason }, JSON.stringify(text));
  }
});

Deno.test("decodePins: more entries than the cap is bad (600k entries are not read one by one)", () => {
  const entry = { pid: 1, start_time: 1, state: "on", since: "2026-01-01T00:00:00.000Z" };
  const text = JSON.stringify({ version: 1, pins: new Array(MAX_PINS + 1).fill(entry) });
  assert.deepEqual(decodePins(text), {
    ok: false,
    reason: `${MAX_PINS + 1} entries, more than the ${MAX_PINS} allowed`,
  });
  assert.equal(decodePins(text, MAX_PINS + 1).ok, true);
});

Deno.test("capPins keeps the most recent pins and says how many went", () => {
  const pins = new Map<string, Pin>(
    [1, 2, 3, 4].map((pid) => [`${pid}@0`, { pid, startTime: 0, state: "on", sinceMs: pid }]),
  );
  const capped = capPins(pins, 2);
  assert.deepEqual([...capped.pins.keys()].sort(), ["3@0", "4@0"]);
  assert.equal(capped.dropped, 2);
  assert.deepEqual(capPins(pins, 4), { pins, dropped: 0 });
});
