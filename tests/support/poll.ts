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

/**
 * `work`'s value, or "not yet" when `ms` pass first. For ordering checks
 * against an event `ms` away (a helper's call that ends then), or as a hang
 * guard: it asks "did this happen before that", never "was it fast".
 */
export async function before<T>(work: Promise<T>, ms: number): Promise<{ value: T } | "not yet"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = new Promise<"not yet">((resolve) => timer = setTimeout(resolve, ms, "not yet"));
  try {
    return await Promise.race([work.then((value) => ({ value })), later]);
  } finally {
    clearTimeout(timer);
  }
}
