/**
 * Shared plumbing for tests that run the real binary (`deno run -A main.ts`)
 * one way to start it, one JSON-lines reader,
 * run-to-the-end, run-until-then-signal, and a long-running handle with
 * its stdout lines and metrics address. Every child is bounded by a timeout
 * or a stop(), so a hang fails the test instead of hanging the suite.
 */
import { poll } from "./poll.ts";
import { lines } from "../../src/sys/stream_lines.ts";

export const MAIN = new URL("../../main.ts", import.meta.url).pathname;
export const RUN_TIMEOUT_MS = 60_000;

export interface StartOptions {
  /** The child's environment, added to this process's. */
  env?: Record<string, string>;
  /** Flags for `deno run` before main.ts (e.g. --v8-flags). */
  denoFlags?: string[];
  /** Kills the child when it aborts; RUN_TIMEOUT_MS unless given; null: none (the caller stops it). */
  signal?: AbortSignal | null;
}

/** `deno run -A main.ts ARGS` as a child with its stdout and stderr piped and no stdin. */
export function startWaspd(args: string[], options: StartOptions = {}): Deno.ChildProcess {
  const signal = options.signal === undefined
    ? AbortSignal.timeout(RUN_TIMEOUT_MS)
    : options.signal;
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...(options.denoFlags ?? []), MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(signal === null ? {} : { signal }),
  }).spawn();
}

/** The JSON value on each line of `stream` (waspd --json: one snapshot a line), as they come. */
export async function* jsonLines<T>(stream: ReadableStream<Uint8Array>): AsyncGenerator<T> {
  // A line cut off by a kill is not a snapshot.
  for await (const line of lines(stream, "drop")) yield JSON.parse(line) as T;
}

export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run waspd to its end; with `closeStdout` its stdout is closed by the reader at once. */
export async function runWaspd(
  args: string[],
  options: { closeStdout?: boolean } = {},
): Promise<Output> {
  const child = startWaspd(args);
  const stdout = options.closeStdout
    ? child.stdout.cancel().then(() => "")
    : new Response(child.stdout).text();
  const [status, out, err] = await Promise.all([
    child.status,
    stdout,
    new Response(child.stderr).text(),
  ]);
  return { code: status.code, stdout: out, stderr: err };
}

export interface Snapshots<S> {
  code: number;
  snapshots: S[];
  stderr: string;
}

/**
 * Run waspd printing JSON lines; once `ready` holds for a snapshot (it also
 * sees all so far), send it `signal`; collect every snapshot until it exits.
 */
export async function runUntil<S>(
  args: string[],
  ready: (snapshot: S, all: readonly S[]) => boolean | Promise<boolean>,
  signal: Deno.Signal,
  options: StartOptions = {},
): Promise<Snapshots<S>> {
  const child = startWaspd(args, options);
  const stderr = new Response(child.stderr).text();
  const snapshots: S[] = [];
  let sent = false;
  for await (const snapshot of jsonLines<S>(child.stdout)) {
    snapshots.push(snapshot);
    if (!sent && await ready(snapshot, snapshots)) {
      sent = true;
      child.kill(signal);
    }
  }
  return { code: (await child.status).code, snapshots, stderr: await stderr };
}

export interface WaspdProcess {
  readonly pid: number;
  readonly lines: string[];
  stderr(): string;
  /** Resolves with the metrics URL once waspd has said it (rejects after timeoutMs). */
  metricsUrl(timeoutMs?: number): Promise<string>;
  /** Resolves when a stdout line satisfies `test` (rejects after timeoutMs). */
  waitLine(test: (line: string) => boolean, timeoutMs: number): Promise<string>;
  /** SIGTERM, then the exit code (SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<number>;
}

/**
 * waspd kept running for an end-to-end test: stdout split into lines as they
 * come, stderr kept, and the metrics address read from waspd's "metrics on
 * http://HOST:PORT/metrics" line (tests bind port 0, so concurrent runs
 * never collide).
 */
export function spawnWaspd(args: string[], env: Record<string, string> = {}): WaspdProcess {
  // No timeout of its own: stop() ends it, with SIGKILL as the last resort.
  const child = startWaspd(args, { env: { NO_COLOR: "1", ...env }, signal: null });
  const stdoutLines: string[] = [];
  let err = "";
  const out = (async () => {
    for await (const line of lines(child.stdout)) stdoutLines.push(line);
  })();
  const errDone = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) err += text;
  })();

  /** poll, with waspd's stderr in the timeout message (why it did not get there). */
  const watch = <T>(what: string, timeoutMs: number, get: () => T | null) =>
    poll(what, timeoutMs, get, 25).catch((error) => {
      throw new Error(`${(error as Error).message}; waspd's stderr:\n${err}`);
    });

  return {
    pid: child.pid,
    lines: stdoutLines,
    stderr: () => err,
    metricsUrl: (timeoutMs = 30_000) =>
      watch(
        "the metrics address",
        timeoutMs,
        () => /metrics on (http:\/\/\S+\/metrics)/.exec(err)?.[1] ?? null,
      ),
    waitLine: (test, timeoutMs) =>
      watch("a matching stdout line", timeoutMs, () => stdoutLines.find(test) ?? null),
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
