/**
 * Shared plumbing for tests that run the real binary (`deno run -A main.ts`)
 * or need a scratch directory. Every child is bounded by a timeout, so a
 * hang fails the test instead of hanging the suite.
 */

export const MAIN = new URL("../../main.ts", import.meta.url).pathname;
export const RUN_TIMEOUT_MS = 60_000;

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run waspd to its end. */
export async function runWaspd(args: string[]): Promise<Output> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * Run waspd printing JSON lines; once `ready` holds for a snapshot, send it
 * `signal`; collect every snapshot until it exits.
 */
export async function runUntil<S>(
  args: string[],
  ready: (snapshot: S, count: number) => boolean,
  signal: Deno.Signal,
): Promise<{ code: number; snapshots: S[]; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(RUN_TIMEOUT_MS),
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const snapshots: S[] = [];
  let pending = "";
  let sent = false;
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const snapshot: S = JSON.parse(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      snapshots.push(snapshot);
      if (!sent && ready(snapshot, snapshots.length)) {
        sent = true;
        child.kill(signal);
      }
    }
  }
  return { code: (await child.status).code, snapshots, stderr: await stderr };
}

/** A fresh directory for `use`, removed afterwards whatever happens. */
export async function inTempDir(
  prefix: string,
  use: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await use(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
