import assert from "node:assert/strict";
import { displayWidth, sanitizeName, sanitizeText } from "../src/ui/sanitize.ts";

Deno.test("a name holding ESC [2J comes out as visible text, no ESC byte", () => {
  const out = sanitizeText("evil\x1b[2Jname");
  assert.equal(out, "evil\\x1b[2Jname");
  assert.ok(!out.includes("\x1b"));
});

Deno.test("C0 controls, DEL and C1 controls are escaped", () => {
  assert.equal(sanitizeText("a\tb\nc\rd\x07e\x7f"), "a\\x09b\\x0ac\\x0dd\\x07e\\x7f");
  // U+009B is CSI on terminals that honour 8-bit C1 controls.
  assert.equal(sanitizeText("x\u009b2Jy\u0085"), "x\\x9b2Jy\\x85");
  assert.equal(sanitizeText("nul\x00"), "nul\\x00");
});

Deno.test("bidi overrides and isolates are escaped, so a row cannot be reordered", () => {
  assert.equal(sanitizeText("abc\u202edcba"), "abc\\u{202e}dcba");
  assert.equal(sanitizeText("\u2066x\u2069\u200f"), "\\u{2066}x\\u{2069}\\u{200f}");
});

Deno.test("wide, zero-width and unpaired surrogate code points are escaped", () => {
  assert.equal(sanitizeText("漢"), "\\u{6f22}");
  assert.equal(sanitizeText("e\u0301"), "e\\u{301}");
  assert.equal(sanitizeText("\ud800"), "\\u{d800}");
  assert.equal(sanitizeText("zero\u200bwidth"), "zero\\u{200b}width");
});

Deno.test("ordinary names pass unchanged, Latin and Cyrillic included", () => {
  assert.equal(sanitizeText("kworker/0:1-events"), "kworker/0:1-events");
  assert.equal(sanitizeText("café"), "café");
  assert.equal(sanitizeText("процесс"), "процесс");
});

Deno.test("sanitizeName limits the width and marks the cut", () => {
  assert.equal(sanitizeName("short", 10), "short");
  assert.equal(sanitizeName("averyveryverylongname", 8), "averyve~");
  const cut = sanitizeName("\x1b[2J\x1b[2J", 6);
  assert.equal(cut, "\\x1b[~");
  assert.equal(displayWidth(cut), 6);
  assert.equal(sanitizeName("x", 0), "");
});
