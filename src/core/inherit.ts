/**
 * /proc/mitosis/inherit while waspd enforces. With inherit on, the children
 * of a process waspd replicated are replicated too, behind the policy's back,
 * and (not being waspd's) are never turned off. waspd therefore turns inherit
 * off while it enforces, and at exit puts back the value it found (writing 1
 * whatever was found would turn on what the machine had off). It writes only
 * when it found inherit on, so the value put back is the one found, on. The
 * found value is also in the ownership record (owned.json): a waspd killed
 * before its exit leaves it for the next one to restore. `--keep-inherit`
 * leaves the file alone. Pure.
 *
 * Kernel facts (6.4, seen): the file reads `1` or `-1`; writing `0` reads back
 * `-1` and writing `1` reads back `1`. So "off" is written as 0 and read as
 * -1, and only 0 and 1 are ever written.
 */

export interface InheritPlan {
  /** Write this at start (0 = off), or null to leave the file alone. */
  write: 0 | null;
  /** Write this at exit (the value found), or null when nothing was changed. */
  restore: number | null;
  /** For the event log. */
  why: string;
}

/**
 * `found` is the value read at start (null: unreadable or absent); `keep`
 * names the option that says to leave it (`--keep-inherit`, or `--once`: one
 * sample and out, no time for children to matter), or is null.
 */
export function planInherit(found: number | null, keep: string | null): InheritPlan {
  if (keep !== null) return { write: null, restore: null, why: `inherit left as found (${keep})` };
  if (found === null) {
    return { write: null, restore: null, why: "inherit unreadable: left alone" };
  }
  if (inheritIsOff(found)) {
    return { write: null, restore: null, why: `inherit already off (${found}): left alone` };
  }
  return {
    write: 0,
    restore: found,
    why: "inherit turned off while enforcing (children of replicated processes " +
      `are not replicated behind the policy's back); ${found} is restored on exit`,
  };
}

/** Does a read-back value say inherit is off? (0 is written, -1 is read.) */
export function inheritIsOff(value: number | null): boolean {
  return value !== null && value <= 0;
}
