import assert from "node:assert/strict";
import { libc } from "../src/ffi/libc.ts";
import { readSmallTextOrGone } from "../src/sys/small_read.ts";

// libc stays open for the process (by design): opened outside any test for the sanitizer.
libc();

Deno.test("small reads: a /proc file, a file larger than the buffer, a missing file", () => {
  const stat = readSmallTextOrGone("/proc/self/stat");
  assert.ok(stat?.startsWith(`${Deno.pid} (`), stat ?? "null");
  const dir = Deno.makeTempDirSync();
  try {
    const big = "é".repeat(5000) + "\nend";
    Deno.writeTextFileSync(`${dir}/big`, big);
    assert.equal(readSmallTextOrGone(`${dir}/big`), big, "grown past 4 KiB, UTF-8 intact");
    Deno.writeTextFileSync(`${dir}/empty`, "");
    assert.equal(readSmallTextOrGone(`${dir}/empty`), "");
    assert.equal(readSmallTextOrGone(`${dir}/missing`), null);
    assert.equal(readSmallTextOrGone("/proc/999999999/stat"), null);
    assert.throws(
      () => readSmallTextOrGone(dir),
      /read\(fd \d+\) failed/,
      "a directory is an error",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
