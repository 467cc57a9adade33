/**
 * Whether waspd runs as root: replication control, other processes' counters
 * and /proc/mitosis writes all need it, and the views say so up front.
 */
import { libc } from "../ffi/libc.ts";
import type { Privileges } from "../host.ts";

/**
 * The effective uid, from geteuid(2) through the FFI layer. Without FFI
 * (libc cannot be opened) it falls back to Deno.uid(), which is the REAL uid:
 * close enough for a setuid-less daemon. When neither answers the uid is -1,
 * reported as not root rather than guessed as 0.
 */
export function readPrivileges(): Privileges {
  let uid: number;
  try {
    uid = libc().geteuid();
  } catch {
    uid = Deno.uid() ?? -1;
  }
  return { root: uid === 0, uid };
}
