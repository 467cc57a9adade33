import assert from "node:assert/strict";
import { lines, LineTooLong } from "../src/sys/stream_lines.ts";

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

Deno.test("lines: a line past the cap throws LineTooLong and stops reading (a writer that never ends its line)", async () => {
  let pulled = 0;
  let cancelled = false;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled += 4096;
      controller.enqueue(new Uint8Array(4096).fill(0x78)); // "x", never a newline
    },
    cancel() {
      cancelled = true;
    },
  });
  const got: string[] = [];
  await assert.rejects(async () => {
    for await (const line of lines(endless, "keep", 64 * 1024)) got.push(line);
  }, LineTooLong);
  assert.deepEqual(got, []);
  assert.ok(pulled <= 64 * 1024 + 3 * 4096, `read ${pulled} bytes`);
  assert.ok(cancelled, "the stream is cancelled");
  // Lines up to the cap pass; one past it after them throws.
  const text = new TextEncoder().encode(`${"a".repeat(10)}\n${"b".repeat(11)}\n`);
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const line of lines(chunks(text), "keep", 10)) seen.push(line);
  }, LineTooLong);
  assert.deepEqual(seen, ["a".repeat(10)]);
});
