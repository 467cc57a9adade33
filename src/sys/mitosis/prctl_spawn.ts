/**
 * The prctl helper as a child process (prctl_helper.ts), seen through the
 * small link the client needs (prctl_client.ts): its stdout lines, its
 * stdin, kill, exit, and the tail of its stderr for error messages.
 */
import { lines, LineTooLong } from "../stream_lines.ts";
import { helperInvocation } from "./prctl_protocol.ts";

/** Longest line a helper may write (its messages are under 200): past it, it is killed. */
export const MAX_HELPER_LINE = 64 * 1024;

/** One helper process as the client sees it (a real child, or a test's fake). */
export interface HelperLink {
  /** The helper's stdout lines, in order; the iteration ends when it exits. */
  readonly lines: AsyncIterable<string>;
  send(line: string): Promise<void>;
  /** Close its input: it exits once no call is under way. */
  endInput(): void;
  kill(): void;
  /** Resolves when the process has exited. Never awaited on a call's path. */
  readonly exited: Promise<void>;
  /** The last lines it wrote to stderr, for error messages. */
  stderrTail(): string;
}

export type HelperLauncher = () => HelperLink;

/** Start the real helper: this binary with the hidden flag, or `deno run` on the module. */
export function launchHelperProcess(): HelperLink {
  const { command, args } = helperInvocation(
    Deno.build.standalone,
    Deno.execPath(),
    new URL("./prctl_helper.ts", import.meta.url).href,
  );
  return spawnHelper(command, args);
}

/**
 * A helper process as a HelperLink: `command args` speaks the helper protocol
 * on its stdin and stdout (the real helper, or a stand-in of a test).
 */
export function spawnHelper(command: string, args: string[]): HelperLink {
  const child = new Deno.Command(command, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Neither the helper nor its pipes may keep waspd alive: a stuck one never ends.
  child.unref();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const tail: string[] = [];
  void (async () => {
    try {
      for await (const line of lines(child.stderr, "keep", MAX_HELPER_LINE)) {
        tail.push(line);
        if (tail.length > 3) tail.shift();
      }
    } catch (error) {
      if (!(error instanceof LineTooLong)) return; // gone
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  })();
  let inputOpen = true;
  return {
    lines: lines(child.stdout, "keep", MAX_HELPER_LINE),
    send: (line) => writer.write(encoder.encode(line)),
    endInput() {
      if (!inputOpen) return;
      inputOpen = false;
      writer.close().catch(() => {});
    },
    kill() {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    },
    exited: child.status.then(() => undefined, () => undefined),
    stderrTail: () => tail.join(" | "),
  };
}
