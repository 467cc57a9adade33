/**
 * LinuxMitosis: the real Mitosis+WASP kernel behind `MitosisControl`.
 *
 * - Reads /proc/mitosis files under a configurable proc root and parses them
 *   with the pure parsers.
 * - Writes `mode`, `inherit`, `cache` with open/write/close through libc: the
 *   kernel reports a rejected value (e.g. `junk` to `mode`) as EINVAL from
 *   close(2), which Deno's own file API drops.
 * - prctl(100) goes through the prctl helper process (see prctl_helper.ts
 *   for why), started by the first call and retired when idle (see
 *   prctl_client.ts); prctl(104/105) are made directly.
 */
import type { ActionResult, MitosisDetection, MitosisState, ProcessKey } from "../../core/types.ts";
import { STEERING_SLOTS } from "../../core/types.ts";
import {
  failed,
  PR_GET_PGTABLE_REPL_STEERING,
  PR_SET_PGTABLE_REPL_STEERING,
  refuseTarget,
} from "../../core/prctl.ts";
import type { MitosisControl, MitosisWritableFile } from "../../host.ts";
import { errorMessage } from "../../core/error_message.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { libc, O_CLOEXEC, O_TRUNC, O_WRONLY } from "../../ffi/libc.ts";
import { OwnedFd } from "../../ffi/owned.ts";
import { detectMitosis, type PrctlProbe, probePrctl } from "./detect.ts";
import { MITOSIS_FILES, parseMitosisState } from "./parse.ts";
import { PrctlClient, type PrctlClientOptions } from "./prctl_client.ts";

export interface LinuxMitosisOptions {
  probe?: () => Promise<PrctlProbe>;
  /** The prctl helper's launcher and start-up timeout. */
  helper?: PrctlClientOptions;
}

function failure(call: string, error: unknown): ActionResult {
  if (error instanceof SyscallError) return failed(error.code, error.message);
  return failed("EIO", `${call}: ${errorMessage(error)}`);
}

export class LinuxMitosis implements MitosisControl {
  readonly procRoot: string;
  readonly #probe: () => Promise<PrctlProbe>;
  readonly #helper: PrctlClient;
  #detection: Promise<MitosisDetection> | null = null;

  constructor(procRoot = "/proc", options: LinuxMitosisOptions = {}) {
    this.procRoot = procRoot;
    this.#probe = options.probe ?? probePrctl;
    this.#helper = new PrctlClient(options.helper ?? {});
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
    withinMs?: number,
  ): Promise<ActionResult> {
    const call = `prctl(100, 0x${mask.toString(16)}, pid ${target.pid})`;
    if (!Number.isSafeInteger(mask) || mask < 0) return failed("EINVAL", `${call}: bad mask`);
    const refused = refuseTarget(call, target.pid);
    if (refused !== null) return refused;
    return await this.#helper.setReplication(call, mask, target.pid, deadlineMs, withinMs);
  }

  // 104/105 only copy an int32[8] to or from the target's mm; unlike 100 they
  // queue no work on the target and wait for nothing (the transcript shows them
  // answering at once), so they are made directly on this thread.
  setSteering(target: ProcessKey, steering: readonly number[]): Promise<ActionResult> {
    const call = `prctl(104, [${steering.join(" ")}], pid ${target.pid})`;
    if (steering.length !== STEERING_SLOTS || steering.some((n) => !Number.isInteger(n))) {
      return Promise.resolve(
        failed("EINVAL", `${call}: steering needs ${STEERING_SLOTS} integers`),
      );
    }
    const refused = refuseTarget(call, target.pid);
    if (refused !== null) return Promise.resolve(refused);
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
    const refused = refuseTarget("prctl(105)", target.pid);
    if (refused !== null) return Promise.resolve(refused);
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

  /**
   * Stop the prctl helpers, waiting at most `timeoutMs`; returns how many are
   * left (one stuck in the kernel goes when its call returns).
   */
  drain(timeoutMs: number): Promise<number> {
    return this.#helper.close(timeoutMs);
  }

  #writeInteger(file: MitosisWritableFile, value: number): ActionResult {
    const path = `${this.procRoot}/mitosis/${file}`;
    if (!Number.isSafeInteger(value)) {
      return failed("EINVAL", `write ${path}: ${value} is not an integer`);
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
