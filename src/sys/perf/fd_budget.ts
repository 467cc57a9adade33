/**
 * How many file descriptors the counters may hold. The soft RLIMIT_NOFILE is
 * raised to the hard limit first (allowed without privilege), then counters
 * get a share of it, leaving the rest to the daemon (its /proc reads, the
 * terminal, workers, the libc and Deno's own fds).
 */
import { libc } from "../../ffi/libc.ts";

/** Fds always left to the rest of the daemon, whatever the share says. */
export const FD_RESERVE = 64;

/**
 * Raise the soft limit of `resource` to its hard limit; returns the soft
 * limit in force afterwards (capped to a safe integer), or null if unknown.
 */
export function raiseFdLimit(resource: number): number | null {
  const c = libc();
  let limits: { soft: bigint; hard: bigint };
  try {
    limits = c.getrlimit(resource);
  } catch {
    return null;
  }
  if (limits.soft < limits.hard) {
    try {
      c.setrlimit(resource, limits.hard, limits.hard);
      limits = { soft: limits.hard, hard: limits.hard };
    } catch {
      // Refused (a container policy): live with the soft limit.
    }
  }
  const cap = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(limits.soft > cap ? cap : limits.soft);
}

/**
 * The fds counters may use: `share` of the soft limit, never eating into the
 * reserve, rounded down to an even number (two fds per thread). Pure.
 */
export function fdBudget(softLimit: number | null, share: number): number {
  if (softLimit === null || !Number.isFinite(softLimit) || softLimit <= FD_RESERVE) return 0;
  const clampedShare = Math.min(1, Math.max(0, share));
  const budget = Math.min(Math.floor(softLimit * clampedShare), softLimit - FD_RESERVE);
  return Math.max(0, budget - (budget % 2));
}

/**
 * The budget and the fds held against it, counted as the live owners
 * themselves: an owner joins when it opens and leaves when it closes, so
 * `used` cannot drift from what is really open (one fd per owner).
 */
export class FdLedger {
  #limit: number;
  readonly #live = new Set<object>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** How many fds the owners may hold. */
  get limit(): number {
    return this.#limit;
  }

  /** How many owners are open now. */
  get used(): number {
    return this.#live.size;
  }

  hold(owner: object): void {
    this.#live.add(owner);
  }

  release(owner: object): void {
    this.#live.delete(owner);
  }

  /** EMFILE/ENFILE said the budget was too generous for the process's other fds: keep what is held. */
  shrinkToUsed(): void {
    this.#limit = this.used;
  }
}
