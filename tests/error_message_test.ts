import assert from "node:assert/strict";
import { errorMessage } from "../src/core/error_message.ts";

Deno.test("errorMessage: an Error's message, the string of anything else thrown", () => {
  assert.equal(errorMessage(new Deno.errors.NotFound("no such file")), "no such file");
  assert.equal(errorMessage("plain text"), "plain text");
  assert.equal(errorMessage(42), "42");
  assert.equal(errorMessage(undefined), "undefined");
});
