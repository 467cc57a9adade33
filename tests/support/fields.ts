/** Assertions on some fields of a record. */
import assert from "node:assert/strict";

/**
 * `actual` has each field of `expected`, deeply equal; fields `expected`
 * does not name are not looked at. One diff for all of them on failure.
 */
export function assertFields<T extends object>(
  actual: T | null | undefined,
  expected: Partial<T>,
  message?: string,
): void {
  assert.ok(actual !== null && actual !== undefined, message ?? "no value");
  const picked = Object.fromEntries(
    Object.keys(expected).map((key) => [key, (actual as Record<string, unknown>)[key]]),
  );
  assert.deepEqual(picked, expected, message);
}
