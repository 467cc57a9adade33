import assert from "node:assert/strict";
import { chooseInstruction, flushCode, openFlusher } from "../probe/flush.ts";
import { libc } from "../src/ffi/libc.ts";

// libc stays open for the process (by design): opened here, outside any test,
// so the resource sanitizer does not pin it on one.
if (Deno.build.os === "linux") libc();

/** The rel8 jumps of the loop must land on the instructions the comment in flush.ts names. */
function checkLoop(code: Uint8Array, flushLength: number): void {
  const jeAt = 3;
  const mfenceAt = 5 + flushLength + 3 + 3 + 2;
  assert.deepEqual([...code.slice(0, 3)], [0x48, 0x85, 0xf6], "test rsi, rsi");
  assert.equal(code[jeAt], 0x74);
  assert.equal(jeAt + 2 + code[jeAt + 1]!, mfenceAt, "je lands on mfence");
  const jmpAt = mfenceAt - 2;
  assert.equal(code[jmpAt], 0xeb);
  assert.equal(jmpAt + 2 + (code[jmpAt + 1]! - 256), 0, "jmp goes back to the test");
  assert.deepEqual([...code.slice(mfenceAt)], [0x0f, 0xae, 0xf0, 0xc3], "mfence; ret");
}

Deno.test("the flush loops: clflush and clflushopt, jumps consistent, ending in mfence; ret", () => {
  const plain = flushCode("clflush");
  assert.deepEqual([...plain.slice(5, 8)], [0x0f, 0xae, 0x3f]);
  checkLoop(plain, 3);
  const opt = flushCode("clflushopt");
  assert.deepEqual([...opt.slice(5, 9)], [0x66, 0x0f, 0xae, 0x3f]);
  checkLoop(opt, 4);
});

Deno.test("the clflush loop is byte for byte the listing in flush.ts", () => {
  const listing = "48 85 f6 74 0b 0f ae 3f 48 01 d7 48 ff ce eb f0 0f ae f0 c3";
  assert.deepEqual([...flushCode("clflush")], listing.split(" ").map((b) => parseInt(b, 16)));
  const opt = "48 85 f6 74 0c 66 0f ae 3f 48 01 d7 48 ff ce eb ef 0f ae f0 c3";
  assert.deepEqual([...flushCode("clflushopt")], opt.split(" ").map((b) => parseInt(b, 16)));
});

Deno.test("clflushopt only where /proc/cpuinfo lists it", () => {
  assert.equal(chooseInstruction("fpu sse2 clflush clflushopt clwb"), "clflushopt");
  assert.equal(chooseInstruction("fpu sse2 clflush"), "clflush");
  assert.equal(chooseInstruction(null), "clflush");
});

Deno.test({
  name: "the flush loop runs from an exec page and leaves the data as it was",
  ignore: Deno.build.os !== "linux" || Deno.build.arch !== "x86_64",
  fn() {
    for (const instruction of ["clflush", "clflushopt"] as const) {
      if (
        instruction === "clflushopt" && chooseInstruction(
            Deno.readTextFileSync("/proc/cpuinfo"),
          ) !== "clflushopt"
      ) continue;
      const support = openFlusher(libc(), instruction);
      if (!support.ok) {
        // Exec memory refused here: the reason must say so, and nothing else is tested.
        assert.match(support.reason, /exec memory refused|mprotect/);
        continue;
      }
      using flusher = support.flusher;
      const data = new Uint32Array(64 * 1024);
      for (let i = 0; i < data.length; i++) data[i] = i * 2654435761;
      const base = Deno.UnsafePointer.of(data);
      assert.ok(base !== null);
      flusher.flush(base, 0, data.byteLength / 64, 64);
      flusher.flush(base, 4096, 0, 64);
      assert.ok(data.every((v, i) => v === (i * 2654435761) >>> 0));
      flusher[Symbol.dispose]();
      assert.throws(() => flusher.flush(base, 0, 1, 64), /after dispose/);
    }
  },
});
