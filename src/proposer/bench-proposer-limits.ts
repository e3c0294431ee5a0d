/**
 * The limits of the bench's k-proposer mode (`bench-proposers.ts`), in a file of their own with no
 * imports, so that the bench driver on Node (`bench/proposers.ts`) reads the same numbers without
 * pulling in the Worker's types.
 */

/** Proposers one ledger may have in the bench mode. */
export const bench_proposers_max = 8;
/**
 * Append latencies each bench proposer keeps (the first ones after the mode was set; later ones are
 * counted in `samples_dropped`, not kept). Enough for a bench load of 64 clients.
 */
export const bench_append_samples_max = 20_000;
