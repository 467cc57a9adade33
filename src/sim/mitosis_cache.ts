/**
 * The page-table cache of the simulated Mitosis kernel: per-node stats and
 * what a write to /proc/mitosis/cache does to them, as the fixtures
 * (`cache-after-write-*`) show. Pure functions over plain objects.
 */

export interface CacheStats {
  cached: number;
  hits: number;
  misses: number;
  returns: number;
}

export function emptyCacheStats(): CacheStats {
  return { cached: 0, hits: 0, misses: 0, returns: 0 };
}

/**
 * Apply a cache write to every online node: N > 0 tops up to N, -1 drains,
 * -2 resets the statistics. Returns false (EINVAL) for anything else.
 */
export function applyCacheWrite(nodes: Iterable<CacheStats>, value: number | null): boolean {
  if (value === null || value === 0 || value < -2) return false;
  for (const stats of nodes) {
    if (value > 0) {
      // [seen] tops up to N; the pages added count as RETURNS (100 after a write of 100).
      const added = Math.max(0, value - stats.cached);
      stats.cached += added;
      stats.returns += added;
    } else if (value === -1) {
      stats.cached = 0; // [seen] RETURNS unchanged
    } else {
      stats.hits = 0;
      stats.misses = 0;
      stats.returns = 0;
    }
  }
  return true;
}

/** Replica page tables come from the node's cache (a hit) or the allocator (a miss). */
export function allocateFromCache(stats: CacheStats, pages: number): void {
  for (let i = 0; i < pages; i++) {
    if (stats.cached > 0) {
      stats.cached--;
      stats.hits++;
    } else {
      stats.misses++;
    }
  }
}
