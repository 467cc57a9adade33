/**
 * A kernel call's return value and errno as an ActionResult, with the same
 * message on the real kernel (through the prctl helper, or made directly) and
 * on the simulated one. Pure.
 */
import type { ActionResult } from "../../core/types.ts";
import { failed } from "../../core/prctl.ts";
import { errnoName, errnoText } from "../../ffi/errno.ts";

export function callResult(call: string, outcome: { rc: number; errno: number }): ActionResult {
  if (outcome.rc >= 0) return { ok: true, value: outcome.rc };
  const code = errnoName(outcome.errno);
  return failed(code, `${call} failed: ${code} (${errnoText(outcome.errno)})${hint(code)}`);
}

function hint(code: string): string {
  switch (code) {
    case "EALREADY":
      return ": already replicated with a different node set (disable first)";
    case "ESRCH":
      return ": no such process";
    case "EINVAL":
      return ": the kernel rejected the request (no Mitosis here, or a bad node mask)";
    default:
      return "";
  }
}
