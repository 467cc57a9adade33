/**
 * Facts about a process's /proc state letter that several layers act on.
 */

/**
 * T = stopped (SIGSTOP), t = traced-stopped. prctl(100) on such a process
 * blocks the caller until it runs again, so waspd never calls it on one.
 */
export function isStopped(state: string): boolean {
  return state === "T" || state === "t";
}
