import assert from "node:assert/strict";
import { isInt, isRecord, jsonObject, parseJson } from "../src/core/json_guards.ts";

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
