/**
 * The one seeded PRNG of waspd: mulberry32 (32-bit state, a few integer
 * operations per draw). Same seed, same sequence on every machine: the probe's
 * chase order and the simulated machine both need runs that replay exactly.
 */

/** A stream of draws in [0, 1), fixed by `seed` (taken as an unsigned 32-bit integer). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
