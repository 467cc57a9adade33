/**
 * A prctl(100) given up on (stuck) that returned later: what it did is read
 * from the kernel's truth, /proc/mitosis/active, not from its answer alone
 * (the answer may be lost with its helper, and the kernel may have changed
 * since). Pure: the facts in, the ownership change and the event out.
 */

export interface LateCompletion {
  /** The call that was given up on. */
  what: "enable" | "disable";
  /** What it answered when it returned; null when that will never be known. */
  answer: { ok: true } | { ok: false; errno: string } | null;
  /** /proc/mitosis/active lists the process as replicated; null when unreadable. */
  replicated: boolean | null;
}

export interface Reconciled {
  /** true: waspd owns the replication (undoes it on exit); false: nothing of waspd's; null: unchanged. */
  owned: boolean | null;
  kind: "enable" | "disable" | "error";
  message: string;
}

function answered(answer: LateCompletion["answer"]): string {
  if (answer === null) return "its answer was lost";
  return answer.ok ? "it returned 0" : `it returned ${answer.errno}`;
}

/** `who` names the process for the event log. */
export function reconcileLate(late: LateCompletion, who: string): Reconciled {
  const head = `late ${late.what} of ${who}: ${answered(late.answer)}`;
  if (late.replicated === null) {
    // No kernel view: trust the answer, and only a definite one.
    if (late.answer?.ok !== true) {
      return {
        owned: null,
        kind: "error",
        message: `${head}; /proc/mitosis/active unreadable: ownership unchanged`,
      };
    }
    return late.what === "enable"
      ? {
        owned: true,
        kind: "enable",
        message: `${head}; /proc/mitosis/active unreadable: taken as on, turned off on exit`,
      }
      : { owned: false, kind: "disable", message: `${head}; taken as off` };
  }
  if (late.replicated) {
    return late.what === "enable"
      ? {
        owned: true,
        kind: "enable",
        message:
          `${head}; /proc/mitosis/active lists it replicated: waspd owns it and turns it off on exit`,
      }
      : {
        owned: null,
        kind: "error",
        message: `${head}; /proc/mitosis/active still lists it replicated: ownership unchanged`,
      };
  }
  return {
    owned: false,
    kind: late.what === "enable" ? "enable" : "disable",
    message: late.what === "enable"
      ? `${head}; /proc/mitosis/active does not list it: replication is off, nothing to undo`
      : `${head}; /proc/mitosis/active does not list it: replication is off`,
  };
}
