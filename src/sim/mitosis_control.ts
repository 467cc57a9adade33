/**
 * SimMitosisControl: the simulated kernel behind the same `MitosisControl`
 * the daemon uses on Linux. Reads go through the real parsers (the model
 * renders the real text); a prctl(100) on a stopped target waits for the
 * deadline on the given clock and reports `stuck`, as LinuxMitosis does.
 */
import type { ActionResult, MitosisDetection, MitosisState, ProcessKey } from "../core/types.ts";
import { STEERING_SLOTS } from "../core/types.ts";
import type { MitosisControl, MitosisWritableFile } from "../host.ts";
import { parseMitosisState } from "../sys/mitosis/parse.ts";
import { callResult as result } from "../sys/mitosis/call_result.ts";
import {
  failed,
  PR_GET_PGTABLE_REPL_STEERING,
  PR_SET_PGTABLE_REPL,
  PR_SET_PGTABLE_REPL_STEERING,
  refuseTarget,
  stuckResult,
} from "../core/prctl.ts";
import type { SimMitosisKernel } from "./mitosis_kernel.ts";

type Sleep = (ms: number) => Promise<void>;

const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class SimMitosisControl implements MitosisControl {
  readonly kernel: SimMitosisKernel;
  readonly #sleep: Sleep;
  readonly #prctlMs: number;

  /**
   * `sleep` is the clock deadlines run on (simulated time on a SimHost);
   * `prctlMs` is how long each prctl(100) takes, as copying a big page
   * table does on a real kernel (0: at once).
   */
  constructor(kernel: SimMitosisKernel, sleep: Sleep = realSleep, prctlMs = 0) {
    this.kernel = kernel;
    this.#sleep = sleep;
    this.#prctlMs = prctlMs;
  }

  detect(): Promise<MitosisDetection> {
    return Promise.resolve({
      present: true,
      variant: "wasp-6.4",
      files: Object.keys(this.kernel.renderFiles()).sort(),
      reason: null,
    });
  }

  async read(): Promise<MitosisState> {
    return parseMitosisState(this.kernel.renderFiles(), await this.detect());
  }

  async setReplication(
    target: ProcessKey,
    mask: number,
    deadlineMs: number,
  ): Promise<ActionResult> {
    const call = `prctl(100, 0x${mask.toString(16)}, pid ${target.pid})`;
    const refused = refuseTarget(call, target.pid);
    if (refused !== null) return refused;
    const outcome = this.kernel.prctl(PR_SET_PGTABLE_REPL, mask, target.pid);
    if (!("blocked" in outcome) && this.#prctlMs > 0) {
      await this.#sleep(Math.min(this.#prctlMs, deadlineMs));
      if (this.#prctlMs >= deadlineMs) {
        // It took effect already; its answer comes when the rest of its time is up.
        const late = this.#sleep(this.#prctlMs - deadlineMs).then(() => result(call, outcome));
        return stuckResult(call, deadlineMs, late, "slow kernel");
      }
    }
    if (!("blocked" in outcome)) return result(call, outcome);
    const finished = await Promise.race([
      this.kernel.whenUnblocked(outcome.ticket),
      this.#sleep(deadlineMs).then(() => null),
    ]);
    if (finished === null) {
      // Answers when the target runs again (or exits), as an abandoned call would.
      const late = this.kernel.whenUnblocked(outcome.ticket).then((o) => result(call, o));
      return stuckResult(call, deadlineMs, late);
    }
    return result(call, finished);
  }

  setSteering(target: ProcessKey, steering: readonly number[]): Promise<ActionResult> {
    const call = `prctl(104, [${steering.join(" ")}], pid ${target.pid})`;
    if (steering.length !== STEERING_SLOTS) {
      return Promise.resolve(failed("EINVAL", `${call}: needs ${STEERING_SLOTS} entries`));
    }
    const outcome = this.kernel.prctlSteering(
      PR_SET_PGTABLE_REPL_STEERING,
      new Int32Array(steering),
      target.pid,
    );
    return Promise.resolve(result(call, outcome));
  }

  getSteering(target: ProcessKey): Promise<number[] | ActionResult> {
    const buffer = new Int32Array(STEERING_SLOTS);
    const outcome = this.kernel.prctlSteering(PR_GET_PGTABLE_REPL_STEERING, buffer, target.pid);
    if (outcome.rc < 0) return Promise.resolve(result(`prctl(105, pid ${target.pid})`, outcome));
    return Promise.resolve([...buffer]);
  }

  write(file: MitosisWritableFile, value: number): Promise<ActionResult> {
    const outcome = this.kernel.writeFile(file, `${value}\n`);
    return Promise.resolve(
      outcome.rc >= 0
        ? { ok: true, value }
        : result(`write ${value} to /proc/mitosis/${file}`, outcome),
    );
  }
}
