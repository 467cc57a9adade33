/**
 * Display sanitizer for untrusted text: process names (comm is chosen by
 * whoever started the process), event messages, kernel reasons.
 *
 * A name holding "\x1b[2J" must not clear the screen, a bidi override must
 * not reorder the row, and a zero-width or combining character must not
 * shift the columns after it. So every code point whose width on a terminal
 * is not known for sure is replaced by a visible escape (`\x1b`,
 * `\u{202e}`). What stays is one or two columns wide per code point: the
 * narrow letters of an allow-list, and the East Asian wide and fullwidth
 * characters (CJK, kana, Hangul syllables) at two, as Unicode's East Asian
 * Width property (get-east-asian-width) gives them. The frame counts cells
 * with `charWidth`.
 *
 * That is the one notation wherever waspd shows untrusted text (table,
 * footer, stderr, manual commands, usage errors). A literal backslash is
 * shown doubled (`\\`), so a name made of the text `\x1b[2J` never looks
 * like a name holding a real ESC.
 */
import { eastAsianWidthType } from "get-east-asian-width";

/**
 * Ranges of code points drawn one column wide and with no control meaning:
 * printable ASCII, Latin-1 and Latin Extended, IPA, Greek, Cyrillic.
 * Deliberately narrow: other scripts are escaped rather than risk a
 * misaligned table (combining marks are zero wide, right-to-left letters
 * reorder the row).
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

/**
 * Letters, digits, punctuation and symbols: visible, spacing characters.
 * Leaves out marks (U+3099 and the ideographic tone marks are "wide" yet
 * combine), separators (U+3000 looks like nothing), format and control
 * characters, surrogates, private use and unassigned code points; and the
 * emoji skin-tone modifiers, which merge with the emoji before them.
 */
const VISIBLE = /^[\p{L}\p{N}\p{P}\p{S}]$/u;
const MERGES = /^\p{Emoji_Modifier}$/u;

/**
 * Terminal columns of one code point as waspd shows it: 1 or 2, or 0 when
 * it is not shown as itself (sanitizeText escapes it).
 */
export function charWidth(ch: string): 0 | 1 | 2 {
  const cp = ch.codePointAt(0) ?? 0;
  if (isSingleWidth(cp)) return 1;
  if (cp < 0x1100 || !VISIBLE.test(ch) || MERGES.test(ch)) return 0;
  const type = eastAsianWidthType(cp);
  if (type === "wide" || type === "fullwidth") return 2;
  if (type === "halfwidth") return 1;
  return 0;
}

function visibleEscape(cp: number): string {
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u{${cp.toString(16)}}`;
}

/**
 * Make `raw` safe to print: control bytes (C0, DEL, C1), ESC, bidi
 * controls, lone surrogates (invalid UTF-8 decodes to U+FFFD, escaped too),
 * zero-width and combining characters and anything else of unknown width
 * become visible escapes, and a backslash becomes `\\` so every backslash
 * shown starts an escape. Not idempotent, by design: sanitize untrusted text
 * exactly once, where it is shown.
 */
export function sanitizeText(raw: string): string {
  let out = "";
  for (const ch of raw) {
    out += ch === "\\" ? "\\\\" : charWidth(ch) > 0 ? ch : visibleEscape(ch.codePointAt(0) ?? 0);
  }
  return out;
}

/**
 * The screen's safety net (every cell goes through it): the same escapes
 * as sanitizeText but backslashes are left alone, so text already sanitized
 * passes unchanged and waspd's own strings (`cpu\mem`) keep their look.
 */
export function escapeUnsafe(text: string): string {
  // Nearly every text is safe as it is: give it back rather than rebuild it
  // a character at a time (every row of every frame passes through here).
  let safe = true;
  for (const ch of text) {
    if (charWidth(ch) <= 0) {
      safe = false;
      break;
    }
  }
  if (safe) return text;
  let out = "";
  for (const ch of text) {
    out += charWidth(ch) > 0 ? ch : visibleEscape(ch.codePointAt(0) ?? 0);
  }
  return out;
}

/** Terminal columns of an already sanitized string. */
export function displayWidth(sanitized: string): number {
  let n = 0;
  for (const ch of sanitized) n += charWidth(ch);
  return n;
}

/**
 * The longest start of an already sanitized string that is at most `width`
 * columns (a wide character that would straddle the edge is left out).
 */
export function cutToWidth(sanitized: string, width: number): string {
  let out = "";
  let used = 0;
  for (const ch of sanitized) {
    const w = charWidth(ch);
    if (used + w > width) break;
    out += ch;
    used += w;
  }
  return out;
}

/**
 * Sanitize, then cut to `maxWidth` columns; a cut name ends in "~" so it is
 * never mistaken for the whole name.
 */
export function sanitizeName(raw: string, maxWidth: number): string {
  const safe = sanitizeText(raw);
  if (maxWidth <= 0) return "";
  if (displayWidth(safe) <= maxWidth) return safe;
  return cutToWidth(safe, maxWidth - 1) + "~";
}

/**
 * One line of output built around untrusted text (a usage error echoing a
 * flag's value, an undo line naming a process): sanitized, so a newline in
 * it becomes `\x0a` and the message stays one line; ends in one "\n".
 */
export function sanitizeLine(text: string): string {
  return sanitizeText(text.replace(/\n+$/, "")) + "\n";
}
