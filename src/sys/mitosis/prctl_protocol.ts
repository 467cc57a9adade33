/**
 * The pipe protocol between waspd and its prctl helper process (see
 * prctl_helper.ts): one JSON object per line, both ways. Pure: encoding,
 * validation, and the reading of an answer as an ActionResult.
 *
 * waspd -> helper: `{"id":1,"mask":1,"pid":4242}`
 * helper -> waspd:
 * - `{"type":"ready","pid":N}` once, when a call thread is loaded and waiting;
 * - `{"type":"begin","id":1}` right before the kernel call (the deadline starts here);
 * - `{"type":"done","id":1,"rc":0,"errno":0}` when it returned;
 * - `{"type":"failed","id":1,"message":"..."}` when the call could not be made.
 */
import type { ActionResult } from "../../core/types.ts";
import { failed, refuseTarget } from "../../core/prctl.ts";
import { isInt as isWhole, jsonObject } from "../../core/json_guards.ts";
import { callResult } from "./call_result.ts";

/** Hidden first argument that makes waspd (main.ts, or a compiled binary) run the helper. */
export const PRCTL_HELPER_FLAG = "__prctl-helper";

export interface PrctlRequest {
  id: number;
  mask: number;
  pid: number;
}

export type HelperMessage =
  | { type: "ready"; pid: number }
  | { type: "begin"; id: number }
  | { type: "done"; id: number; rc: number; errno: number }
  | { type: "failed"; id: number; message: string };

export function encodeRequest(request: PrctlRequest): string {
  return JSON.stringify(request) + "\n";
}

/** A request line as the helper reads it; a string is why it was refused. */
export function parseRequest(line: string): PrctlRequest | string {
  const value = jsonObject(line);
  if (value === null) return `not a JSON object: ${line.slice(0, 80)}`;
  const { id, mask, pid } = value;
  if (!isWhole(id) || id < 0) return "bad id";
  if (!isWhole(mask) || mask < 0) return `bad mask ${String(mask)}`;
  if (!isWhole(pid) || refuseTarget("", pid) !== null) return `bad pid ${String(pid)}`;
  return { id, mask, pid };
}

export function encodeMessage(message: HelperMessage): string {
  return JSON.stringify(message) + "\n";
}

/** A helper line as waspd reads it; null for anything that is not a message. */
export function parseMessage(line: string): HelperMessage | null {
  const m = jsonObject(line);
  if (m === null) return null;
  switch (m.type) {
    case "ready":
      return isWhole(m.pid) ? { type: "ready", pid: m.pid } : null;
    case "begin":
      return isWhole(m.id) ? { type: "begin", id: m.id } : null;
    case "done":
      return isWhole(m.id) && isWhole(m.rc) && isWhole(m.errno)
        ? { type: "done", id: m.id, rc: m.rc, errno: m.errno }
        : null;
    case "failed":
      return isWhole(m.id) && typeof m.message === "string"
        ? { type: "failed", id: m.id, message: m.message }
        : null;
    default:
      return null;
  }
}

/** The ActionResult of a finished call. Pure. */
export function resultOf(
  call: string,
  answer: Extract<HelperMessage, { type: "done" | "failed" }>,
): ActionResult {
  if (answer.type === "failed") {
    return failed("ECHILD", `${call}: the prctl helper could not make the call: ${answer.message}`);
  }
  return callResult(call, answer);
}

/** How to start the helper: this binary re-invoked, or `deno run` on the module. Pure. */
export function helperInvocation(
  standalone: boolean,
  execPath: string,
  helperModuleUrl: string,
): { command: string; args: string[] } {
  // In a `deno compile`d binary Deno.execPath() is waspd itself and the module
  // URL points inside the embedded file system: the binary must dispatch the flag.
  if (standalone) return { command: execPath, args: [PRCTL_HELPER_FLAG] };
  const path = new URL(helperModuleUrl).pathname;
  return { command: execPath, args: ["run", "-A", "--no-config", path] };
}
