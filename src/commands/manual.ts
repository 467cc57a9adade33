/**
 * Manual control for operators: `waspd enable|disable|steer PID` and
 * `waspd status [--json]`. Every dependency is a parameter (the kernel
 * interface, the process lookup, privileges, the host's pins, output), so the
 * same code runs against the real kernel and against the simulated one.
 *
 * Safety rules (docs/kernel-interface.md): act only as root, only with Mitosis present,
 * never on a stopped process (prctl 100 would hang on it), never on a kernel
 * thread, and re-read pid + start time right before the call so a pid reused
 * in between is not touched. A process changed by hand is pinned, so a
 * running daemon's policy leaves it alone.
 */
import type {
  ActionResult,
  ActiveProcess,
  ProcessInfo,
  ProcessKey,
  Topology,
} from "../core/types.ts";
import { maskOfNodes, replicationMask } from "../core/replication_mask.ts";
import { type MitosisJson, mitosisJson } from "../core/snapshot.ts";
import type { MitosisControl, PinStore, Privileges } from "../host.ts";
import { pinOf, type PinState } from "../core/pins.ts";
import { sanitizeText } from "../ui/sanitize.ts";
import { isStopped } from "../core/process_state.ts";
import { errorMessage } from "../core/error_message.ts";

export interface ManualContext {
  mitosis: MitosisControl;
  /** Read /proc/PID/stat now: identity and state, or null when there is no such process. */
  lookup(pid: number): Promise<ProcessInfo | null>;
  privileges: Privileges;
  /** The NUMA topology now: `enable` replicates on its nodes with CPUs. */
  topology(): Promise<Topology>;
  /** The host's pins: commands pin only where the pins are shared (the real pins file). */
  pins: PinStore;
  /** How long prctl(100) may take before it is reported stuck. */
  deadlineMs: number;
  wallNow(): number;
  out(text: string): void;
  err(text: string): void;
}

/** Measures PTL latencies and returns the int32[8] steering array, or why it could not. */
export type SteeringSource = () => Promise<number[] | string>;

/** A state-file warning names the --state-dir, which may hold anything: shown sanitized. */
const safe = sanitizeText;

function cannotWrite(pins: PinStore, error: unknown): string {
  return `could not write ${safe(pins.where)}: ${safe(errorMessage(error))}`;
}

function describeFailure(result: ActionResult): string {
  if (result.ok) return "ok";
  return result.message;
}

/** The checks every acting command shares; returns the confirmed process or an exit code. */
async function preflight(
  ctx: ManualContext,
  command: string,
  pid: number,
): Promise<ProcessInfo | number> {
  const fail = (message: string) => {
    ctx.err(`waspd ${command}: ${message}\n`);
    return 1;
  };
  if (!ctx.privileges.root) {
    return fail(
      `needs root (running as uid ${ctx.privileges.uid}): the kernel has no permission check, waspd has`,
    );
  }
  const detection = await ctx.mitosis.detect();
  if (!detection.present) {
    return fail(`Mitosis is not available: ${detection.reason ?? "unknown reason"}`);
  }
  const info = await ctx.lookup(pid);
  if (!info) return fail(`no process ${pid}`);
  const who = `${pid} (${sanitizeText(info.name)})`;
  if (info.kernelThread) return fail(`${who} is a kernel thread: it has no page tables of its own`);
  if (isStopped(info.state)) {
    return fail(
      `${who} is stopped (state ${info.state}): the kernel call would block until it runs`,
    );
  }
  return info;
}

/** Re-read identity right before the kernel call: the same pid + start time, not stopped. */
async function reconfirm(ctx: ManualContext, command: string, key: ProcessKey): Promise<boolean> {
  const again = await ctx.lookup(key.pid);
  if (again && again.startTime === key.startTime && !isStopped(again.state)) {
    return true;
  }
  const why = !again
    ? "exited"
    : again.startTime !== key.startTime
    ? "was replaced by another process (pid reused)"
    : `was stopped (state ${again.state})`;
  ctx.err(`waspd ${command}: process ${key.pid} ${why} just before the call; nothing done\n`);
  return false;
}

async function pin(
  ctx: ManualContext,
  command: string,
  key: ProcessKey,
  state: PinState,
): Promise<string> {
  if (!ctx.pins.shared) return "";
  try {
    const warnings = await ctx.pins.set(key, state, ctx.wallNow());
    for (const warning of warnings) ctx.err(`waspd ${command}: ${safe(warning)} (rewritten)\n`);
    return `; pinned ${state}`;
  } catch (error) {
    ctx.err(`waspd ${command}: ${cannotWrite(ctx.pins, error)}\n`);
    return "; NOT pinned";
  }
}

async function setReplication(
  ctx: ManualContext,
  command: "enable" | "disable",
  pid: number,
): Promise<number> {
  const info = await preflight(ctx, command, pid);
  if (typeof info === "number") return info;
  let arg2 = 0;
  if (command === "enable") {
    // The nodes with CPUs (core/replication_mask.ts); refused before any kernel call.
    const mask = replicationMask(await ctx.topology());
    if (!mask.ok) {
      ctx.err(`waspd enable: ${mask.reason}; nothing done\n`);
      return 1;
    }
    arg2 = mask.mask;
  }
  const key = { pid: info.pid, startTime: info.startTime };
  if (!(await reconfirm(ctx, command, key))) return 1;
  const result = await ctx.mitosis.setReplication(key, arg2, ctx.deadlineMs);
  const who = `${pid} (${sanitizeText(info.name)})`;
  if (!result.ok && result.stuck) {
    ctx.err(`waspd ${command}: ${result.message}; the call may still complete later\n`);
    return 1;
  }
  // EALREADY: replication is already on (with another node set); that is "on".
  const alreadyOn = !result.ok && command === "enable" && result.errno === "EALREADY";
  if (!result.ok && !alreadyOn) {
    ctx.err(`waspd ${command}: ${describeFailure(result)}\n`);
    return 1;
  }
  const pinned = await pin(ctx, command, key, command === "enable" ? "on" : "off");
  if (command === "disable") {
    ctx.out(`replication off for ${who}${pinned}\n`);
    return 0;
  }
  const state = await ctx.mitosis.read();
  const nodes = state.active.find((a) => a.pid === pid)?.nodes;
  const where = nodes ? ` on nodes ${nodes.join(",")}` : "";
  ctx.out(`replication ${alreadyOn ? "already on" : "on"} for ${who}${where}${pinned}\n`);
  return 0;
}

export function runEnable(ctx: ManualContext, pid: number): Promise<number> {
  return setReplication(ctx, "enable", pid);
}

export function runDisable(ctx: ManualContext, pid: number): Promise<number> {
  return setReplication(ctx, "disable", pid);
}

/** `waspd unpin PID` when PID has no pin: nothing done (the README's exit codes). */
export const EXIT_NOT_PINNED = 3;

/**
 * Remove a process's pin: the running daemon's policy decides for it again.
 * A kernel thread is refused as `enable` refuses it; a process without a pin
 * is "not pinned" (EXIT_NOT_PINNED) and the pins are left as they are.
 */
export async function runUnpin(ctx: ManualContext, pid: number): Promise<number> {
  const fail = (message: string, code = 1) => {
    ctx.err(`waspd unpin: ${message}\n`);
    return code;
  };
  const info = await ctx.lookup(pid);
  if (!info) return fail(`no process ${pid}`);
  const who = `${pid} (${sanitizeText(info.name)})`;
  if (info.kernelThread) return fail(`${who} is a kernel thread: it has no page tables of its own`);
  // Pins that outlive no run (a simulation without --state-dir) hold none now.
  if (!ctx.pins.shared) {
    return fail(`${who} is not pinned (pins here last one run)`, EXIT_NOT_PINNED);
  }
  const key = { pid: info.pid, startTime: info.startTime };
  const { pins, warnings } = await ctx.pins.read();
  for (const warning of warnings) ctx.err(`waspd unpin: ${safe(warning)}\n`);
  if (pinOf(pins, key) === null) return fail(`${who} is not pinned`, EXIT_NOT_PINNED);
  try {
    for (const warning of await ctx.pins.set(key, null, ctx.wallNow())) {
      ctx.err(`waspd unpin: ${safe(warning)}\n`);
    }
  } catch (error) {
    return fail(cannotWrite(ctx.pins, error));
  }
  ctx.out(`${who} unpinned\n`);
  return 0;
}

export async function runSteer(
  ctx: ManualContext,
  pid: number,
  steering: SteeringSource,
): Promise<number> {
  const info = await preflight(ctx, "steer", pid);
  if (typeof info === "number") return info;
  const array = await steering();
  if (typeof array === "string") {
    ctx.err(`waspd steer: no steering: ${array}\n`);
    return 1;
  }
  // The measurement takes a while: confirm identity again after it.
  const key = { pid: info.pid, startTime: info.startTime };
  if (!(await reconfirm(ctx, "steer", key))) return 1;
  const result = await ctx.mitosis.setSteering(key, array);
  if (!result.ok) {
    const hint = !result.stuck && result.errno === "EINVAL"
      ? " (replication is off for this process, or a chosen node is not among its replicas)"
      : "";
    ctx.err(`waspd steer: ${describeFailure(result)}${hint}\n`);
    return 1;
  }
  const readBack = await ctx.mitosis.getSteering(key);
  const shown = Array.isArray(readBack)
    ? readBack.join(" ")
    : `unreadable (${describeFailure(readBack)})`;
  ctx.out(`steering for ${pid} (${sanitizeText(info.name)}): ${shown}\n`);
  return 0;
}

export interface StatusProcessJson {
  pid: number;
  tgid: number;
  name: string;
  live: boolean;
  nodes: number[];
  /** `nodes` as a prctl(100) mask (bit i = node i); null for a node past bit 52. */
  mask: number | null;
  duration_ms: number | null;
  steering: number[] | null;
  steering_error: string | null;
}

export interface StatusJson {
  mitosis: MitosisJson;
  processes: StatusProcessJson[];
}

/** The status document: parsed state plus each replicated process's steering. */
export async function collectStatus(ctx: ManualContext): Promise<StatusJson> {
  const state = await ctx.mitosis.read();
  const processes = await Promise.all(state.active.map(async (a) => {
    const info = await ctx.lookup(a.pid);
    const steering = await ctx.mitosis.getSteering({ pid: a.pid, startTime: info?.startTime ?? 0 });
    return processJson(a, steering);
  }));
  return { mitosis: mitosisJson(state), processes };
}

function processJson(a: ActiveProcess, steering: number[] | ActionResult): StatusProcessJson {
  return {
    pid: a.pid,
    tgid: a.tgid,
    name: a.name,
    live: a.live,
    nodes: a.nodes,
    mask: maskOfNodes(a.nodes),
    duration_ms: a.durationMs,
    steering: Array.isArray(steering) ? steering : null,
    steering_error: Array.isArray(steering) ? null : describeFailure(steering),
  };
}

/** Human-readable status. Pure. */
export function formatStatus(status: StatusJson): string {
  const m = status.mitosis;
  if (!m.available) return `Mitosis: unavailable: ${m.reason ?? "unknown reason"}\n`;
  const show = (v: number | null) => (v === null ? "unknown" : String(v));
  const lines = [
    `Mitosis: ${m.variant ?? "unknown variant"}  mode ${show(m.mode)}  inherit ${
      show(m.inherit)
    }  ` +
    `replication ${
      m.replication_active === null ? "unknown" : m.replication_active ? "ACTIVE" : "INACTIVE"
    }`,
    `Cache${m.cache_memory_kb === null ? "" : ` (${m.cache_memory_kb} KB)`}:`,
    ...m.cache.map((r) =>
      `  node ${r.node}: ${r.cached} cached, ${r.hits} hits, ${r.misses} misses, ${r.returns} returns`
    ),
    `Replicated processes: ${status.processes.length}`,
    ...status.processes.map((p) =>
      `  ${p.pid} ${sanitizeText(p.name)}  nodes ${p.nodes.join(",")}  steering ` +
      (p.steering ? p.steering.join(" ") : `unknown (${p.steering_error})`) +
      (p.duration_ms === null ? "" : `  for ${p.duration_ms} ms`)
    ),
    ...m.warnings.map((w) => `warning: ${w}`),
  ];
  return `${lines.join("\n")}\n`;
}

/** `waspd status [--json]`: exit 0 with Mitosis present, 1 (still printing why) without. */
export async function runStatus(ctx: ManualContext, json: boolean): Promise<number> {
  const status = await collectStatus(ctx);
  ctx.out(json ? `${JSON.stringify(status)}\n` : formatStatus(status));
  return status.mitosis.available ? 0 : 1;
}
