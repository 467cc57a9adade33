/**
 * Which Mitosis kernel (if any) runs here: from the /proc/mitosis listing and
 * one side-effect-free prctl. `classifyMitosis` is pure; `detectMitosis` does
 * the two reads.
 */
import type { MitosisDetection } from "../../core/types.ts";
import { PR_GET_PGTABLE_REPL } from "../../core/prctl.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { errorMessage } from "../../core/error_message.ts";

/** What prctl(101) answered: a mask, or an errno name / other failure text. */
export type PrctlProbe = { ok: true; mask: number } | { ok: false; code: string };

const FILES_64 = ["status", "active", "cache", "mode", "inherit", "history"];
const FILES_70 = ["cache", "verify", "inherit", "mode"];

/**
 * Detection from the file names under /proc/mitosis (null = no such
 * directory) and the prctl probe. Pure.
 */
export function classifyMitosis(files: string[] | null, probe: PrctlProbe): MitosisDetection {
  const listed = files ? [...files].sort() : [];
  const prctlText = probe.ok
    ? `prctl(101) answered ${probe.mask}`
    : `prctl(101) gives ${probe.code}`;
  if (files === null) {
    return {
      present: false,
      variant: null,
      files: [],
      reason: probe.ok
        ? `no /proc/mitosis although ${prctlText}: a Mitosis kernel without the WASP interface`
        : `no /proc/mitosis and ${prctlText}: this kernel has no Mitosis`,
    };
  }
  const has = (names: string[]) => names.every((name) => listed.includes(name));
  const variant = has(FILES_64)
    ? "wasp-6.4"
    : has(FILES_70) && !listed.includes("status")
    ? "wasp-7.0"
    : "unknown";
  if (!probe.ok) {
    return {
      present: false,
      variant,
      files: listed,
      reason: `/proc/mitosis exists but ${prctlText}: replication cannot be controlled`,
    };
  }
  return {
    present: true,
    variant,
    files: listed,
    reason: variant === "unknown"
      ? `unrecognised /proc/mitosis files (${listed.join(", ")}): reading what exists`
      : null,
  };
}

/**
 * Ask prctl(101) for the caller's mask. Why 101 and not 100: 101 only reads
 * the caller's own state (EINVAL on a stock kernel, a mask — 0 when off — on
 * Mitosis), while any prctl(100) call *sets* replication for the caller (even
 * mask 0 is a "disable" request): detection must not change kernel state.
 */
export async function probePrctl(): Promise<PrctlProbe> {
  try {
    // Imported lazily so the pure classifier is usable where libc cannot load.
    const { libc } = await import("../../ffi/libc.ts");
    return { ok: true, mask: libc().prctl(PR_GET_PGTABLE_REPL, 0, 0) };
  } catch (error) {
    if (error instanceof SyscallError) return { ok: false, code: error.code };
    return { ok: false, code: errorMessage(error) };
  }
}

/** The names in `${procRoot}/mitosis`, or null when it is missing or unreadable. */
export async function listMitosisFiles(procRoot: string): Promise<string[] | null> {
  try {
    const names: string[] = [];
    for await (const entry of Deno.readDir(`${procRoot}/mitosis`)) names.push(entry.name);
    return names;
  } catch {
    return null;
  }
}

export async function detectMitosis(
  procRoot: string,
  probe: () => Promise<PrctlProbe> = probePrctl,
): Promise<MitosisDetection> {
  const [files, answer] = await Promise.all([listMitosisFiles(procRoot), probe()]);
  return classifyMitosis(files, answer);
}
