/**
 * What the kernel can hold, for values read back from waspd's state files
 * (owned.json, pins.json, the simulated machine's file): a file anyone may
 * have edited must never make waspd write, restore or target a value no
 * kernel would have given it. Pure.
 */
import { isInt } from "./json_guards.ts";

/** PID_MAX_LIMIT on 64-bit Linux: pid_max can be raised to it, never past; pids stay below it. */
export const PID_MAX_LIMIT = 4_194_304;

/** A process id the kernel can hand out: 1 .. PID_MAX_LIMIT - 1. */
export function isPid(value: unknown): value is number {
  return isInt(value) && value >= 1 && value < PID_MAX_LIMIT;
}

/** A start time (clock ticks since boot, /proc/PID/stat field 22). */
export function isStartTime(value: unknown): value is number {
  return isInt(value) && value >= 0;
}

/** /proc/mitosis/inherit reads back 1 or -1 (writing 0 reads back -1). */
export function isInheritValue(value: unknown): value is 1 | -1 {
  return value === 1 || value === -1;
}

/** /proc/mitosis/mode holds -1 (default), 0 (node 0) or 1 (auto-enable). */
export function isModeValue(value: unknown): value is -1 | 0 | 1 {
  return value === -1 || value === 0 || value === 1;
}

/** A replication mask of a machine with `nodes` nodes: bits 0 .. nodes - 1 only. */
export function isNodeMask(value: unknown, nodes: number): value is number {
  return isInt(value) && value >= 0 && value < 2 ** Math.min(nodes, 53);
}

/** Longest text field (a name, a reason) a state file may carry: more is not waspd's. */
export const MAX_TEXT_FIELD = 4096;

/** A short text field of a state file. */
export function isTextField(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_TEXT_FIELD;
}
