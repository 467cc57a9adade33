/**
 * The counters of one process and how its reading is summed. The counter type
 * and its reader are parameters so the summing is tested without a kernel
 * (LinuxCounterSource uses PerfCounter owners; tests use plain numbers).
 */
import type { CounterReading } from "../../core/types.ts";
import type { RawCount } from "./attr.ts";

export interface ThreadCounters<C> {
  loads: C;
  walks: C;
  /** Walk cycles (the optional third event), or null when it is not counted. */
  walkCycles?: C | null;
}

export interface ProcessCounters<C> {
  pid: number;
  /** Live threads by tid. */
  threads: Map<number, ThreadCounters<C>>;
  /** Final scaled counts of threads that ended, so the total never drops. */
  retired: {
    loads: number;
    walks: number;
    enabledNs: number;
    runningNs: number;
    /** null once a thread's final walk cycles went uncounted: the total is then unknown. */
    walkCycles?: number | null;
  };
}

export type CounterReader<C> = (counter: C) => RawCount | null;
export type CounterScaler = (count: RawCount) => number | null;

/**
 * Sum the scaled counts of every live thread plus the retired totals. A
 * thread whose count is unknown (short read, never on the PMU) makes the
 * process's sum for that event unknown: a sum missing a part is not the sum.
 */
export function readProcess<C>(
  counters: ProcessCounters<C>,
  read: CounterReader<C>,
  scale: CounterScaler,
): CounterReading {
  let loads: number | null = counters.retired.loads;
  let walks: number | null = counters.retired.walks;
  let enabledNs = counters.retired.enabledNs;
  let runningNs = counters.retired.runningNs;
  // Walk cycles are known only when every thread counts them (a partial sum is not the sum).
  let walkCycles: number | null = counters.retired.walkCycles ?? null;
  for (const thread of counters.threads.values()) {
    const l = tryRead(read, thread.loads);
    const w = tryRead(read, thread.walks);
    const ls = l ? scale(l) : null;
    const ws = w ? scale(w) : null;
    loads = loads === null || ls === null ? null : loads + ls;
    walks = walks === null || ws === null ? null : walks + ws;
    enabledNs += (l?.enabledNs ?? 0) + (w?.enabledNs ?? 0);
    runningNs += (l?.runningNs ?? 0) + (w?.runningNs ?? 0);
    const c = thread.walkCycles ? tryRead(read, thread.walkCycles) : null;
    const cs = c ? scale(c) : null;
    walkCycles = walkCycles === null || cs === null ? null : walkCycles + cs;
  }
  return { loads, walks, enabledNs, runningNs, threads: counters.threads.size, walkCycles };
}

function tryRead<C>(read: CounterReader<C>, counter: C): RawCount | null {
  try {
    return read(counter);
  } catch {
    return null;
  }
}

/**
 * Fold a dead thread's final counts into the process's retired totals. When
 * a final count is unknown it is dropped: the process total then steps back,
 * and the rate maths turns that tick into unknown rather than a negative rate.
 */
export function retireThread<C>(
  counters: ProcessCounters<C>,
  loads: RawCount | null,
  walks: RawCount | null,
  scale: CounterScaler,
): void {
  const loadsScaled = loads ? scale(loads) : null;
  const walksScaled = walks ? scale(walks) : null;
  if (loads === null || walks === null || loadsScaled === null || walksScaled === null) return;
  counters.retired.loads += loadsScaled;
  counters.retired.walks += walksScaled;
  counters.retired.enabledNs += loads.enabledNs + walks.enabledNs;
  counters.retired.runningNs += loads.runningNs + walks.runningNs;
}

/** Fold a dead thread's final walk cycles in; unknown makes the total unknown for good. */
export function retireWalkCycles(
  counters: ProcessCounters<unknown>,
  count: RawCount | null,
  scale: CounterScaler,
): void {
  const scaled = count ? scale(count) : null;
  const total = counters.retired.walkCycles ?? null;
  counters.retired.walkCycles = total === null || scaled === null ? null : total + scaled;
}
