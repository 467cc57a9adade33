/** PolicySample for tests: one factory, so a new field is added in one place. */
import type { PolicySample } from "../../src/core/policy.ts";
import { keyed, type KeyedProcess } from "../../src/core/types.ts";

/** The process the policy tests decide about. */
export const KEY: KeyedProcess = keyed({ pid: 42, startTime: 1000 });

/**
 * A sample of KEY with these signals: nothing replicated, pinned, stuck,
 * stopped or foreign, enforcing; `extra` on top.
 */
export function policySample(
  signals: { mar: number | null; dtlb: number | null },
  extra: Partial<PolicySample> = {},
): PolicySample {
  return {
    key: KEY,
    replicated: null,
    pinned: null,
    stuck: false,
    stopped: false,
    foreign: false,
    advisory: false,
    ...signals,
    ...extra,
  };
}
