/**
 * The prctl option numbers of the Mitosis+WASP kernel, in one place: the real
 * calls (src/sys/mitosis/), the simulated kernel (src/sim/) and the tests all
 * read them from here. A stock kernel answers every one of them with EINVAL.
 */

/** Set a process's replication mask (0 = off, 1 = all nodes, else a node mask). */
export const PR_SET_PGTABLE_REPL = 100;
/** Read the caller's replication mask; changes nothing. */
export const PR_GET_PGTABLE_REPL = 101;
/** Set the cache-only mode of a process. */
export const PR_SET_PGTABLE_CACHE_ONLY = 102;
/** Read the cache-only mode of a process. */
export const PR_GET_PGTABLE_CACHE_ONLY = 103;
/** Write a process's steering table (int32[STEERING_SLOTS]). */
export const PR_SET_PGTABLE_REPL_STEERING = 104;
/** Read a process's steering table (int32[STEERING_SLOTS]). */
export const PR_GET_PGTABLE_REPL_STEERING = 105;
