/**
 * waspd as a child process for end-to-end tests: `deno run main.ts ARGS`,
 * stdout split into lines as they come, stderr kept, and the metrics
 * address read from waspd's "metrics on http://HOST:PORT/metrics" line
 * (tests bind port 0, so concurrent runs never collide).
 */
import { poll } from "./poll.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

export interface WaspdProcess {
  readonly lines: string[];
  stderr(): string;
  /** Resolves with the metrics URL once waspd has said it (rejects after timeoutMs). */
  metricsUrl(timeoutMs?: number): Promise<string>;
  /** Resolves when a stdout line satisfies `test` (rejects after timeoutMs). */
  waitLine(test: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGTERM, then the exit code (SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<number>;
}

export function spawnWaspd(args: string[], env: Record<string, string> = {}): WaspdProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
  const lines: string[] = [];
  let err = "";
  const pump = async (stream: ReadableStream<Uint8Array>, onText: (t: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
  };
  let partial = "";
  const out = pump(child.stdout, (t) => {
    const parts = (partial + t).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  const errDone = pump(child.stderr, (t) => (err += t));

  /** poll, with waspd's stderr in the timeout message (why it did not get there). */
  const watch = <T>(what: string, timeoutMs: number, get: () => T | null) =>
    poll(what, timeoutMs, get, 25).catch((error) => {
      throw new Error(`${(error as Error).message}; waspd's stderr:\n${err}`);
    });

  return {
    lines,
    stderr: () => err,
    metricsUrl: (timeoutMs = 30_000) =>
      watch(
        "the metrics address",
        timeoutMs,
        () => /metrics on (http:\/\/\S+\/metrics)/.exec(err)?.[1] ?? null,
      ),
    waitLine: (test, timeoutMs) =>
      watch("a matching stdout line", timeoutMs, () => lines.find(test) ?? null),
    stop: async (timeoutMs = 20_000) => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone meanwhile
        }
      }, timeoutMs);
      const status = await child.status;
      clearTimeout(timer);
      await Promise.all([out, errDone]);
      if (partial !== "") lines.push(partial);
      return status.code;
    },
  };
}

/** GET url; the body and status, or null when the connection fails. */
export async function scrape(url: string): Promise<{ status: number; body: string } | null> {
  try {
    const r = await fetch(url);
    return { status: r.status, body: await r.text() };
  } catch {
    return null;
  }
}
