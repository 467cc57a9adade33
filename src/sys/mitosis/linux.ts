/**
 * LinuxMitosis: the real Mitosis+WASP kernel behind `MitosisControl`.
 *
 * - Reads /proc/mitosis files under a configurable proc root and parses them
 *   with the pure parsers.
 * - Writes `mode`, `inherit`, `cache` with open/write/close through libc: the
 *   kernel reports a rejected value (e.g. `junk` to `mode`) as EINVAL from
 *   close(2), which Deno's own file API drops.
 * - prctl(100) runs in a short-lived child process with a deadline (see
 *   prctl_child.ts for why); prctl(104/105) are made directly.
 */
import type { ActionResult, MitosisDetection, MitosisState, ProcessKey } from "../../core/types.ts";
import { STEERING_SLOTS } from "../../core/types.ts";
import { PR_GET_PGTABLE_REPL_STEERING, PR_SET_PGTABLE_REPL_STEERING } from "../../core/prctl.ts";
import type { MitosisControl, MitosisWritableFile } from "../../host.ts";
import { errnoText, SyscallError } from "../../ffi/errno.ts";
import { libc, O_CLOEXEC, O_TRUNC, O_WRONLY } from "../../ffi/libc.ts";
import { OwnedFd } from "../../ffi/owned.ts";
import { detectMitosis, type PrctlProbe, probePrctl } from "./detect.ts";
import { MITOSIS_FILES, parseMitosisState } from "./parse.ts";
import { PRCTL_CHILD_FLAG, type PrctlChildResult } from "./prctl_child.ts";

export interface LinuxMitosisOptions {
  probe?: () => Promise<PrctlProbe>;
  /** Tests only: the child blocks this long before its call (plays a stuck call). */
  childTestSleepMs?: number;
}

/** How to start the prctl child: this binary re-invoked, or `deno run` on the module. Pure. */
export function prctlChildInvocation(
  standalone: boolean,
  execPath: string,
  childModuleUrl: string,
  childArgs: readonly string[],
): { command: string; args: string[] } {
  // In a `deno compile`d binary Deno.execPath() is waspd itself and the module
  // URL points inside the embedded file system: the binary must dispatch the flag.
  if (standalone) return { command: execPath, args: [PRCTL_CHILD_FLAG, ...childArgs] };
  const path = new URL(childModuleUrl).pathname;
  return { command: execPath, args: ["run", "-A", "--no-config", path, ...childArgs] };
}

/** Turn what the child printed into an ActionResult. Pure. */
export function interpretChildOutput(
  call: string,
  stdout: string,
  stderr: string,
  exitCode: number,
): ActionResult {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let result: PrctlChildResult | null = null;
  try {
    const parsed = JSON.parse(line);
    if (typeof parsed?.rc === "number" && typeof parsed?.code === "string") result = parsed;
  } catch {
    result = null;
  }
  if (result === null) {
    const detail = stderr.trim().split("\n").slice(-3).join(" | ") || `exit code ${exitCode}`;
    return {
      ok: false,
      stuck: false,
      errno: "ECHILD",
      message: `${call}: the prctl child failed: ${detail}`,
    };
  }
  if (result.rc >= 0) return { ok: true, value: result.rc };
  return {
    ok: false,
    stuck: false,
    errno: result.code,
    message: `${call} failed: ${result.code} (${errnoText(result.errno)})${hint(result.code)}`,
  };
}

function hint(code: string): string {
  switch (code) {
    case "EALREADY":
      return ": already replicated with a different node set (disable first)";
    case "ESRCH":
      return ": no such process";
    case "EINVAL":
      return ": the kernel rejected the request (no Mitosis, or a bad node mask)";
    default:
      return "";
  }
}

function failure(call: string, error: unknown): ActionResult {
  if (error instanceof SyscallError) {
    return { ok: false, stuck: false, errno: error.code, message: error.message };
  }
  const text = error instanceof Error ? error.message : String(error);
  return { ok: false, stuck: false, errno: "EIO", message: `${call}: ${text}` };
}

export class LinuxMitosis implements MitosisControl {
  readonly procRoot: string;
  readonly #probe: () => Promise<PrctlProbe>;
  readonly #childTestSleepMs: number;
  #detection: Promise<MitosisDetection> | null = null;
  /** Children still running (stuck or finishing): awaited by `drain`, never by a call. */
  readonly #children = new Set<Promise<unknown>>();

  constructor(procRoot = "/proc", options: LinuxMitosisOptions = {}) {
    this.procRoot = procRoot;
    this.#probe = options.probe ?? probePrctl;
    this.#childTestSleepMs = options.childTestSleepMs ?? 0;
  }

  /**
   * Detected once: the Mitosis patches are built into the kernel, so what
   * exists cannot change while waspd runs, and `read()` (every tick) should
   * not list /proc/mitosis and call prctl again to find out.
   */
  detect(): Promise<MitosisDetection> {
    this.#detection ??= detectMitosis(this.procRoot, this.#probe);
    return this.#detection;
  }

  async read(): Promise<MitosisState> {
    const detection = await this.detect();
    const files: Record<string, string | null> = {};
    await Promise.all(
      MITOSIS_FILES.filter((name) => detection.files.includes(name)).map(async (name) => {
        try {
          files[name] = await Deno.readTextFile(`${this.procRoot}/mitosis/${name}`);
        } catch {
          files[name] = null;
        }
      }),
    );
    const state = parseMitosisState(files, detection);
    for (const [name, text] of Object.entries(files)) {
      if (text === null) state.warnings.push(`${name}: unreadable`);
    }
    return state;
  }

  async setReplication(
    target: ProcessKey,
    mask: number,
    deadlineMs: number,
  ): Promise<ActionResult> {
    const call = `prctl(100, 0x${mask.toString(16)}, pid ${target.pid})`;
    if (!Number.isSafeInteger(mask) || mask < 0) {
      return { ok: false, stuck: false, errno: "EINVAL", message: `${call}: bad mask` };
    }
    // pid 0 is the caller and 1 is init: never what the daemon means.
    if (!Number.isSafeInteger(target.pid) || target.pid <= 1) {
      return {
        ok: false,
        stuck: false,
        errno: "EINVAL",
        message: `${call}: refusing pid ${target.pid}`,
      };
    }
    const childArgs = ["set-replication", String(mask), String(target.pid)];
    if (this.#childTestSleepMs > 0) {
      childArgs.push("--test-sleep-ms", String(this.#childTestSleepMs));
    }
    const { command, args } = prctlChildInvocation(
      Deno.build.standalone,
      Deno.execPath(),
      new URL("./prctl_child.ts", import.meta.url).href,
      childArgs,
    );
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" })
        .spawn();
    } catch (error) {
      return failure(call, error);
    }
    const output = child.output();
    // Whatever happens below, a stuck child must not keep the daemon alive.
    child.unref();
    const tracked = output.catch(() => undefined).finally(() => this.#children.delete(tracked));
    this.#children.add(tracked);

    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), deadlineMs);
    });
    try {
      const outcome = await Promise.race([output, deadline]);
      if (outcome === "deadline") {
        try {
          // A child in uninterruptible sleep may outlive SIGKILL: we return anyway.
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        return {
          ok: false,
          stuck: true,
          message: `${call} did not return within ${deadlineMs} ms (target not running?)`,
        };
      }
      const decoder = new TextDecoder();
      return interpretChildOutput(
        call,
        decoder.decode(outcome.stdout),
        decoder.decode(outcome.stderr),
        outcome.code,
      );
    } catch (error) {
      return failure(call, error);
    } finally {
      clearTimeout(timer);
    }
  }

  // 104/105 only copy an int32[8] to or from the target's mm; unlike 100 they
  // queue no work on the target and wait for nothing (the transcript shows them
  // answering at once), so they are made directly on this thread.
  setSteering(target: ProcessKey, steering: readonly number[]): Promise<ActionResult> {
    const call = `prctl(104, [${steering.join(" ")}], pid ${target.pid})`;
    if (steering.length !== STEERING_SLOTS || steering.some((n) => !Number.isInteger(n))) {
      return Promise.resolve({
        ok: false,
        stuck: false,
        errno: "EINVAL",
        message: `${call}: steering needs ${STEERING_SLOTS} integers`,
      });
    }
    if (target.pid <= 1) {
      return Promise.resolve({
        ok: false,
        stuck: false,
        errno: "EINVAL",
        message: `${call}: refusing pid ${target.pid}`,
      });
    }
    try {
      const buffer = new Int32Array(steering);
      return Promise.resolve({
        ok: true,
        value: libc().prctlBuffer(PR_SET_PGTABLE_REPL_STEERING, buffer, target.pid),
      });
    } catch (error) {
      return Promise.resolve(failure(call, error));
    }
  }

  getSteering(target: ProcessKey): Promise<number[] | ActionResult> {
    if (target.pid <= 1) {
      return Promise.resolve({
        ok: false,
        stuck: false,
        errno: "EINVAL",
        message: `prctl(105): refusing pid ${target.pid}`,
      });
    }
    try {
      const buffer = new Int32Array(STEERING_SLOTS);
      libc().prctlBuffer(PR_GET_PGTABLE_REPL_STEERING, buffer, target.pid);
      return Promise.resolve([...buffer]);
    } catch (error) {
      return Promise.resolve(failure(`prctl(105, pid ${target.pid})`, error));
    }
  }

  write(file: MitosisWritableFile, value: number): Promise<ActionResult> {
    return Promise.resolve(this.#writeInteger(file, value));
  }

  /** Wait (at most `timeoutMs`) for children still running; a D-state one is left behind. */
  async drain(timeoutMs: number): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
    await Promise.race([Promise.all([...this.#children]), timeout]);
    clearTimeout(timer);
    return this.#children.size;
  }

  #writeInteger(file: MitosisWritableFile, value: number): ActionResult {
    const path = `${this.procRoot}/mitosis/${file}`;
    if (!Number.isSafeInteger(value)) {
      return {
        ok: false,
        stuck: false,
        errno: "EINVAL",
        message: `write ${path}: ${value} is not an integer`,
      };
    }
    try {
      // O_TRUNC as `echo N >` does: procfs ignores it, a fixture tree needs it.
      // If the write throws, `using` closes quietly: the write's error is the answer.
      using file = OwnedFd.open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
      file.write(new TextEncoder().encode(`${value}\n`));
      // The kernel applies (or rejects) the value when the file is released.
      file.close();
      return { ok: true, value };
    } catch (error) {
      return failure(`write ${value} to ${path}`, error);
    }
  }
}
