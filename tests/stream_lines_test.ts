import assert from "node:assert/strict";
import { lines } from "../src/sys/stream_lines.ts";

/** A stream of these byte chunks (a line, and a UTF-8 character, may straddle two). */
function chunks(...parts: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(parts);
}

async function collect(stream: ReadableStream<Uint8Array>, mode?: "keep" | "drop") {
  const out: string[] = [];
  for await (const line of lines(stream, mode)) out.push(line);
  return out;
}

Deno.test("lines: whole lines across chunks, a split character, the unterminated last line", async () => {
  const bytes = new TextEncoder().encode('{"a":1}\n{"é":2}\n{"cut');
  const at = bytes.indexOf(0xc3) + 1; // inside "é"
  const split = () => chunks(bytes.subarray(0, 3), bytes.subarray(3, at), bytes.subarray(at));
  assert.deepEqual(await collect(split()), ['{"a":1}', '{"é":2}', '{"cut']);
  assert.deepEqual(await collect(split(), "drop"), ['{"a":1}', '{"é":2}'], "cut off: dropped");
  const blankTail = new TextEncoder().encode("x\n  ");
  assert.deepEqual(await collect(chunks(blankTail)), ["x"], "a blank tail is no line");
});
