/**
 * Guards for JSON that waspd did not necessarily write (state files, the
 * prctl helper's pipe): the few shape checks every decoder needs, in one
 * place. Pure. None of them ever quotes the input: a decoder's reasons reach
 * logs and screens, and the text may be a link to a secret.
 */

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A whole number JSON can carry exactly (a safe integer). */
export function isInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

/** JSON.parse without the throw (whose message quotes the text): undefined when `text` is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `text` as a JSON object, or null (not JSON, or JSON but not an object). */
export function jsonObject(text: string): Record<string, unknown> | null {
  const value = parseJson(text);
  return isRecord(value) ? value : null;
}

/**
 * A state file's list of entries, all or nothing: at most `max` of them, each
 * turned into a value by `entry` (null: malformed), keyed by `keyOf`. The
 * reason names the count or the entry's index, never its content.
 */
export function decodeEntries<T>(
  list: readonly unknown[],
  max: number,
  entry: (raw: unknown) => T | null,
  keyOf: (value: T) => string,
): { ok: true; value: Map<string, T> } | { ok: false; reason: string } {
  if (list.length > max) {
    return { ok: false, reason: `${list.length} entries, more than the ${max} allowed` };
  }
  const values = new Map<string, T>();
  for (const [i, raw] of list.entries()) {
    const value = entry(raw);
    if (value === null) return { ok: false, reason: `entry ${i} is malformed` };
    values.set(keyOf(value), value);
  }
  return { ok: true, value: values };
}
