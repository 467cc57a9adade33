/**
 * A small seeded PRNG for the simulated machine. `Math.random()` would make
 * every run different; the simulation must replay exactly for a `--seed` so a
 * failing test or a bug report can be reproduced.
 *
 * mulberry32 (core/random.ts, the same generator the probe's chase order
 * uses): 32-bit state, good enough statistics for noise, and trivially
 * portable. `fork(label)` derives an independent stream per consumer (prober,
 * topology, ...) so adding a draw in one place does not shift every other
 * figure of the simulation.
 */
import { seededRandom } from "../core/random.ts";

/** FNV-1a over the label, mixed with the seed: a stable 32-bit stream id. */
function mixSeed(seed: number, label: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < label.length; i++) {
    hash ^= label.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class SeededRng {
  readonly #draw: () => number;
  readonly seed: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    this.seed = Math.trunc(seed) >>> 0;
    this.#draw = seededRandom(this.seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#draw();
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Relative noise: a factor in [1 - amplitude, 1 + amplitude). */
  jitter(amplitude: number): number {
    return 1 + this.range(-amplitude, amplitude);
  }

  /** An independent stream for one consumer, stable for (seed, label). */
  fork(label: string): SeededRng {
    return new SeededRng(mixSeed(this.seed, label));
  }
}

/**
 * A stateless draw in [0, 1) for (seed, label, index): for figures that must
 * be a pure function of time (free memory at second t) whatever order the
 * callers ask in.
 */
export function hashUnit(seed: number, label: string, index: number): number {
  return new SeededRng(mixSeed(seed, `${label}#${index}`)).next();
}
