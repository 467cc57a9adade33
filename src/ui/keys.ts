/**
 * Raw terminal input bytes -> key names. Pure: screen.ts feeds it what
 * stdin delivered in raw mode; the state reducer only ever sees names.
 * Which names exist is the binding table's business (bindings.ts).
 */
import { type KeyName, printableKeys } from "./bindings.ts";

export type { KeyName };

/**
 * Printable keys we act on: every one-character key of the binding table,
 * plus "=" and "_", the unshifted "+" and "-" keys on most layouts. Upper
 * case works too (Caps Lock on).
 */
const LETTERS: Readonly<Record<string, KeyName>> = {
  ...Object.fromEntries(printableKeys().map((k) => [k, k])),
  "=": "+",
  _: "-",
};

/** CSI / SS3 sequences after ESC, as xterm, VT220 and the Linux console send them. */
const SEQUENCES: Record<string, KeyName> = {
  "[A": "up",
  "[B": "down",
  OA: "up",
  OB: "down",
  "[5~": "pgup",
  "[6~": "pgdn",
  "[H": "home",
  "[F": "end",
  OH: "home",
  OF: "end",
  "[1~": "home",
  "[4~": "end",
  "[7~": "home",
  "[8~": "end",
};

const ESC = 0x1b;

/** Length of the escape sequence starting at `i` (ESC included). */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const next = bytes[i + 1];
  if (next === undefined) return 1;
  if (next === 0x4f /* O */) return Math.min(3, bytes.length - i);
  if (next !== 0x5b /* [ */) return 1;
  // CSI: parameters and intermediates, then one final byte in 0x40..0x7e.
  let j = i + 2;
  while (j < bytes.length) {
    const b = bytes[j]!;
    if (b >= 0x40 && b <= 0x7e) return j - i + 1;
    j++;
  }
  return bytes.length - i;
}

/**
 * One key press as typed: its name when it has one, and the printable
 * character it types (the filter takes those as text). A printable key with
 * no name is unbound: the screen says so rather than ignore it silently.
 */
export interface KeyPress {
  key: KeyName | null;
  /** The printable ASCII character typed, as typed (case kept); null for the others. */
  char: string | null;
}

/**
 * Decode one read's worth of bytes. Unknown sequences and control bytes
 * are dropped (a mouse report or F-key must not be read as "q"). A read
 * holding only ESC is the Escape key: terminals deliver a whole sequence in
 * one read, so a chunk is not carried over to the next.
 */
export function decodeInput(bytes: Uint8Array): KeyPress[] {
  const presses: KeyPress[] = [];
  const push = (key: KeyName | null, char: string | null = null) => presses.push({ key, char });
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === ESC) {
      const len = sequenceLength(bytes, i);
      if (len === 1) push("escape");
      else {
        const body = String.fromCharCode(...bytes.subarray(i + 1, i + len));
        const key = SEQUENCES[body];
        if (key) push(key);
      }
      i += len;
      continue;
    }
    if (b === 0x03) push("ctrl-c");
    else if (b === 0x0d || b === 0x0a) push("enter");
    else if (b === 0x7f || b === 0x08) push("backspace");
    else if (b >= 0x20 && b < 0x7f) {
      const char = String.fromCharCode(b);
      push(LETTERS[char.toLowerCase()] ?? null, char);
    }
    i++;
  }
  return presses;
}

/** The named keys of decodeInput, unbound characters dropped. */
export function decodeKeys(bytes: Uint8Array): KeyName[] {
  return decodeInput(bytes).flatMap((p) => (p.key === null ? [] : [p.key]));
}
