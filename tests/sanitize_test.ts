import assert from "node:assert/strict";
import {
  charWidth,
  cutToWidth,
  displayWidth,
  sanitizeName,
  sanitizeText,
} from "../src/ui/sanitize.ts";

Deno.test("a name holding ESC [2J comes out as visible text, no ESC byte", () => {
  const out = sanitizeText("evil\x1b[2Jname");
  assert.equal(out, "evil\\x1b[2Jname");
  assert.ok(!out.includes("\x1b"));
});

/** What sanitizeText makes of names, by kind of character: test name, then [input, output]. */
const ESCAPES: [string, [string, string][]][] = [
  ["C0 controls, DEL and C1 controls are escaped", [
    ["a\tb\nc\rd\x07e\x7f", "a\\x09b\\x0ac\\x0dd\\x07e\\x7f"],
    // U+009B is CSI on terminals that honour 8-bit C1 controls.
    ["x\u009b2Jy\u0085", "x\\x9b2Jy\\x85"],
    ["nul\x00", "nul\\x00"],
  ]],
  ["bidi overrides and isolates are escaped, so a row cannot be reordered", [
    ["abc\u202edcba", "abc\\u{202e}dcba"],
    ["\u2066x\u2069\u200f", "\\u{2066}x\\u{2069}\\u{200f}"],
  ]],
  ["zero-width, combining and unpaired surrogate code points are escaped", [
    ["e\u0301", "e\\u{301}"],
    ["\ud800", "\\u{d800}"],
    ["zero\u200bwidth", "zero\\u{200b}width"],
  ]],
  ["ordinary names pass unchanged, Latin and Cyrillic included", [
    ["kworker/0:1-events", "kworker/0:1-events"],
    ["café", "café"],
    ["процесс", "процесс"],
  ]],
];

for (const [name, cases] of ESCAPES) {
  Deno.test(name, () => {
    for (const [input, output] of cases) {
      assert.equal(sanitizeText(input), output, JSON.stringify(input));
    }
  });
}

Deno.test("sanitizeName limits the width and marks the cut", () => {
  assert.equal(sanitizeName("short", 10), "short");
  assert.equal(sanitizeName("averyveryverylongname", 8), "averyve~");
  const cut = sanitizeName("\x1b[2J\x1b[2J", 6);
  assert.equal(cut, "\\x1b[~");
  assert.equal(displayWidth(cut), 6);
  assert.equal(sanitizeName("x", 0), "");
});

Deno.test("CJK, kana and Hangul are shown as themselves, two columns each", () => {
  assert.equal(sanitizeText("漢字"), "漢字");
  assert.equal(displayWidth("漢字"), 4);
  assert.equal(sanitizeText("データ処理"), "データ処理");
  assert.equal(displayWidth(sanitizeText("데이터")), 6);
  assert.equal(displayWidth(sanitizeText("ＡＢ")), 4); // fullwidth Latin
  assert.equal(displayWidth(sanitizeText("ｱｲ")), 2); // halfwidth katakana
  assert.equal(displayWidth(sanitizeText("db-漢")), 5);
});

Deno.test("wide yet unsafe code points stay escaped: marks, spaces, modifiers, bad UTF-8", () => {
  // U+3099 (kana voicing) and U+302A (ideographic tone mark) are East Asian
  // Wide but combine with the character before them.
  assert.equal(sanitizeText("か\u3099"), "か\\u{3099}");
  assert.equal(sanitizeText("\u302a"), "\\u{302a}");
  assert.equal(sanitizeText("a\u3000b"), "a\\u{3000}b"); // ideographic space looks like nothing
  assert.equal(sanitizeText("👍\u{1f3fd}"), "👍\\u{1f3fd}"); // a skin tone merges with its emoji
  assert.equal(sanitizeText("漢\u200d字"), "漢\\u{200d}字");
  assert.equal(sanitizeText("漢\u202e字"), "漢\\u{202e}字");
  // comm bytes that are not UTF-8 decode to U+FFFD: escaped, never a raw byte.
  const decoded = new TextDecoder().decode(new Uint8Array([0x61, 0xe6, 0xbc, 0x62]));
  assert.equal(sanitizeText(decoded), "a\\u{fffd}b");
  assert.equal(sanitizeText("\u{20000}\u{3fffd}"), "𠀀\\u{3fffd}"); // assigned vs unassigned
  for (const ch of ["\x1b", "\u0301", "\u3099", "\u{1f3fb}", "\u{d800}"]) {
    assert.equal(charWidth(ch), 0, ch);
  }
});

Deno.test("names are cut by columns: a wide character never straddles the edge", () => {
  assert.equal(sanitizeName("日本語プロセス", 8), "日本語~");
  assert.equal(displayWidth(sanitizeName("日本語プロセス", 8)), 7);
  assert.equal(sanitizeName("ab漢字", 4), "ab~");
  assert.equal(sanitizeName("漢字", 4), "漢字");
  assert.equal(cutToWidth("a漢b", 2), "a");
  assert.equal(cutToWidth("a漢b", 3), "a漢");
});
