/**
 * Display sanitizer for untrusted text: process names (comm is chosen by
 * whoever started the process), event messages, kernel reasons.
 *
 * A name holding "\x1b[2J" must not clear the screen, a bidi override must
 * not reorder the row, and a wide or zero-width character must not shift
 * the columns after it. So every code point that is not known to be exactly
 * one printable column wide is replaced by a visible escape (`\x1b`,
 * `\u{202e}`). The result is plain text in which one code point is one
 * terminal column: the frame can then count cells by code points.
 *
 * That is the one notation wherever waspd shows untrusted text (table,
 * footer, stderr, manual commands, usage errors). A literal backslash is
 * shown doubled (`\\`), so a name made of the text `\x1b[2J` never looks
 * like a name holding a real ESC.
 */

/**
 * Ranges of code points drawn one column wide and with no control meaning:
 * printable ASCII, Latin-1 and Latin Extended, IPA, Greek, Cyrillic.
 * Deliberately narrow: anything else is shown escaped rather than risk a
 * misaligned table (CJK is two columns wide, combining marks zero).
 */
const SINGLE_WIDTH_RANGES: readonly (readonly [number, number])[] = [
  [0x20, 0x7e],
  [0xa1, 0xac], // U+00A0 (nbsp) and U+00AD (soft hyphen) look like nothing: escape them
  [0xae, 0x2af],
  [0x370, 0x377],
  [0x37a, 0x37f],
  [0x384, 0x38a],
  [0x38c, 0x38c],
  [0x38e, 0x3a1],
  [0x3a3, 0x482], // Cyrillic up to U+0482; U+0483.. are combining marks
  [0x48a, 0x52f],
];

function isSingleWidth(cp: number): boolean {
  for (const [lo, hi] of SINGLE_WIDTH_RANGES) {
    if (cp >= lo && cp <= hi) return true;
  }
  return false;
}

function visibleEscape(cp: number): string {
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u{${cp.toString(16)}}`;
}

/**
 * Make `raw` safe to print: control bytes (C0, DEL, C1), ESC, bidi
 * controls, lone surrogates and anything not single-width become visible
 * escapes, and a backslash becomes `\\` so every backslash shown starts an
 * escape. Not idempotent, by design: sanitize untrusted text exactly once,
 * where it is shown.
 */
export function sanitizeText(raw: string): string {
  let out = "";
  for (const ch of raw) {
    const cp = ch.codePointAt(0) ?? 0;
    out += cp === BACKSLASH ? "\\\\" : isSingleWidth(cp) ? ch : visibleEscape(cp);
  }
  return out;
}

/**
 * The screen's safety net (every cell goes through it): the same escapes
 * as sanitizeText but backslashes are left alone, so text already sanitized
 * passes unchanged and waspd's own strings (`cpu\mem`) keep their look.
 */
export function escapeUnsafe(text: string): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    out += isSingleWidth(cp) ? ch : visibleEscape(cp);
  }
  return out;
}

const BACKSLASH = 0x5c;

/** Terminal columns of an already sanitized string (one per code point). */
export function displayWidth(sanitized: string): number {
  let n = 0;
  for (const _ of sanitized) n++;
  return n;
}

/**
 * Sanitize, then cut to `maxWidth` columns; a cut name ends in "~" so it is
 * never mistaken for the whole name.
 */
export function sanitizeName(raw: string, maxWidth: number): string {
  const safe = sanitizeText(raw);
  if (maxWidth <= 0) return "";
  const chars = Array.from(safe);
  if (chars.length <= maxWidth) return safe;
  return chars.slice(0, maxWidth - 1).join("") + "~";
}

/**
 * One line of output built around untrusted text (a usage error echoing a
 * flag's value, an undo line naming a process): sanitized, so a newline in
 * it becomes `\x0a` and the message stays one line; ends in one "\n".
 */
export function sanitizeLine(text: string): string {
  return sanitizeText(text.replace(/\n+$/, "")) + "\n";
}
