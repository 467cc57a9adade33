/** Ask `get` every `everyMs` until it returns a value; throw after `timeoutMs` saying what was awaited. */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  get: () => T | null | Promise<T | null>,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await get();
    if (value !== null) return value;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
