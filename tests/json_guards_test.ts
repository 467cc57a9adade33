import assert from "node:assert/strict";
import { decodeEntries, isInt, isRecord, jsonObject, parseJson } from "../src/core/json_guards.ts";

Deno.test("json guards: a record is a plain object, never null or an array", () => {
  assert.deepEqual([{}, { a: 1 }, null, [], "x", 1].filter(isRecord), [{}, { a: 1 }]);
});

Deno.test("json guards: isInt takes safe integers only", () => {
  assert.deepEqual([0, -3, 2 ** 53, 1.5, Number.NaN, "1"].filter(isInt), [0, -3]);
});

Deno.test("json guards: text that is not JSON is undefined, not a throw; jsonObject wants an object", () => {
  assert.equal(parseJson("{oops"), undefined);
  assert.equal(parseJson("null"), null);
  assert.deepEqual(jsonObject('{"id":1}'), { id: 1 });
  assert.deepEqual(["[1]", "7", "null", "{oops"].map(jsonObject), [null, null, null, null]);
});

Deno.test("decodeEntries: all or nothing, capped, reasons by count and index only", () => {
  const even = (raw: unknown) => (typeof raw === "number" && raw % 2 === 0 ? raw : null);
  const key = (n: number) => String(n);
  assert.deepEqual(decodeEntries([2, 4], 2, even, key), {
    ok: true,
    value: new Map([["2", 2], ["4", 4]]),
  });
  assert.deepEqual(decodeEntries([2, 4, 6], 2, even, key), {
    ok: false,
    reason: "3 entries, more than the 2 allowed",
  });
  assert.deepEqual(decodeEntries([2, "secret"], 5, even, key), {
    ok: false,
    reason: "entry 1 is malformed",
  });
});
