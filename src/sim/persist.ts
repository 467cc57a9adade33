/**
 * The simulated machine across a restart of waspd (`waspd --sim --state-dir
 * DIR`): what a real machine keeps when waspd dies is the kernel's state and
 * the passage of time, so that is what is saved: the simulated clock and the
 * Mitosis kernel model's mode, inherit and per-process replication. A new
 * SimHost with the same seed and node count resumes from it, with the same
 * processes alive (the scenario is a function of seed and time) and the same
 * ones replicated, which is what the crash-safe ownership test needs.
 *
 * Written after every call that may change the kernel model (SimHost's
 * wrapper of its MitosisControl), with the same hardened state-file reader
 * and atomic writer as the real host's files.
 */
import { STEERING_SLOTS } from "../core/types.ts";
import { isInt, isRecord, parseJson } from "../core/json_guards.ts";
import {
  isInheritValue,
  isModeValue,
  isNodeMask,
  isPid,
  isStartTime,
} from "../core/kernel_values.ts";
import { SIM_MAX_NODES } from "./topology.ts";
import { loadStateFile, writeStateFile } from "../sys/state_file.ts";
import type { SimMitosisKernel } from "./mitosis_kernel.ts";

export const SIM_STATE_FILE_NAME = "sim-kernel.json";

export interface SavedSimProcess {
  pid: number;
  startTime: number;
  mask: number;
  steering: number[];
  cacheOnly: boolean;
  enabledAtMs: number | null;
}

export interface SavedSim {
  seed: number;
  nodes: number;
  /** Simulated time when saved. */
  nowMs: number;
  mode: number;
  inherit: number;
  /** Processes with replication on, or cache-only set. */
  processes: SavedSimProcess[];
}

/** The kernel model's state worth keeping. Pure. */
export function captureSim(
  kernel: SimMitosisKernel,
  startTimes: ReadonlyMap<number, number>,
  machine: { seed: number; nodes: number; nowMs: number },
): SavedSim {
  const processes: SavedSimProcess[] = [];
  for (const p of kernel.processes.values()) {
    const startTime = startTimes.get(p.pid);
    if (startTime === undefined || (p.mask === 0 && !p.cacheOnly)) continue;
    processes.push({
      pid: p.pid,
      startTime,
      mask: p.mask,
      steering: [...p.steering],
      cacheOnly: p.cacheOnly,
      enabledAtMs: p.enabledAtMs,
    });
  }
  processes.sort((a, b) => a.pid - b.pid);
  return { ...machine, mode: kernel.mode, inherit: kernel.inherit, processes };
}

/**
 * Put saved state back into a kernel model already synced to the scenario at
 * the saved time; a process applies only if the same pid + start time is there.
 */
export function restoreSim(
  kernel: SimMitosisKernel,
  startTimes: ReadonlyMap<number, number>,
  saved: SavedSim,
): void {
  kernel.mode = saved.mode;
  kernel.inherit = saved.inherit;
  for (const s of saved.processes) {
    const p = kernel.processes.get(s.pid);
    if (p === undefined || startTimes.get(s.pid) !== s.startTime) continue;
    p.mask = s.mask;
    p.steering = [...s.steering];
    p.cacheOnly = s.cacheOnly;
    p.enabledAtMs = s.enabledAtMs;
  }
}

/**
 * Decode the state file, all or nothing; every value one the kernel model
 * can hold (mode -1/0/1, inherit 1/-1, masks and steering within the node
 * count). Pure.
 */
export function decodeSim(
  text: string,
): { ok: true; value: SavedSim } | { ok: false; reason: string } {
  const j = parseJson(text);
  if (j === undefined) return { ok: false, reason: "not JSON" };
  const bad = { ok: false as const, reason: "not a simulated machine's state" };
  if (!isRecord(j)) return bad;
  if (
    j.version !== 1 || !isInt(j.seed) || !isInt(j.nodes) || j.nodes < 1 ||
    j.nodes > SIM_MAX_NODES || typeof j.now_ms !== "number" || !Number.isFinite(j.now_ms) ||
    j.now_ms < 0 || !isModeValue(j.mode) || !isInheritValue(j.inherit) ||
    !Array.isArray(j.processes)
  ) return bad;
  const nodes = j.nodes;
  const isSlot = (n: unknown) => n === -1 || (isInt(n) && n >= 0 && n < nodes);
  const processes: SavedSimProcess[] = [];
  for (const p of j.processes as unknown[]) {
    if (!isRecord(p)) return bad;
    const steering = p.steering;
    if (
      !isPid(p.pid) || !isStartTime(p.start_time) || !isNodeMask(p.mask, nodes) ||
      typeof p.cache_only !== "boolean" ||
      !(p.enabled_at_ms === null ||
        (typeof p.enabled_at_ms === "number" && Number.isFinite(p.enabled_at_ms))) ||
      !Array.isArray(steering) || steering.length !== STEERING_SLOTS || !steering.every(isSlot)
    ) return bad;
    processes.push({
      pid: p.pid,
      startTime: p.start_time,
      mask: p.mask,
      steering: steering as number[],
      cacheOnly: p.cache_only,
      enabledAtMs: p.enabled_at_ms as number | null,
    });
  }
  return {
    ok: true,
    value: {
      seed: j.seed,
      nodes: j.nodes,
      nowMs: j.now_ms,
      mode: j.mode,
      inherit: j.inherit,
      processes,
    },
  };
}

export function encodeSim(saved: SavedSim): string {
  return `${
    JSON.stringify(
      {
        version: 1,
        seed: saved.seed,
        nodes: saved.nodes,
        now_ms: saved.nowMs,
        mode: saved.mode,
        inherit: saved.inherit,
        processes: saved.processes.map((p) => ({
          pid: p.pid,
          start_time: p.startTime,
          mask: p.mask,
          steering: p.steering,
          cache_only: p.cacheOnly,
          enabled_at_ms: p.enabledAtMs,
        })),
      },
      null,
      2,
    )
  }\n`;
}

/**
 * The saved state for this machine (seed, node count), or null; a warning
 * when the file was bad (set aside) or is another machine's (ignored).
 */
export function loadSim(
  path: string,
  machine: { seed: number; nodes: number },
  wallNowMs: number,
): { saved: SavedSim | null; warning: string | null } {
  const { value, warning } = loadStateFile(path, "simulated state", decodeSim, wallNowMs);
  if (value === null) return { saved: null, warning };
  if (value.seed !== machine.seed || value.nodes !== machine.nodes) {
    return {
      saved: null,
      warning: `simulated state: ${path} is another machine's (seed ${value.seed}, ` +
        `${value.nodes} nodes): starting afresh`,
    };
  }
  return { saved: value, warning: null };
}

export function saveSim(path: string, saved: SavedSim): void {
  writeStateFile(path, encodeSim(saved));
}
