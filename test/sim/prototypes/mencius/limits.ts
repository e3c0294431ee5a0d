/**
 * The Mencius prototype's named limits, in one file because the proposer and the entry file
 * (`../mencius.ts`, which re-exports the public ones) both bound their loops and messages with them.
 * The batch limit is the harness's `prototype_batch_requests_max`, the same for every design.
 */

/** Requests a proposer may hold unproposed (an assertion on its queue; the runs never come near it). */
export const mencius_pending_requests_max = 100_000;
/**
 * Slots per ownership window by default (W). Measured on seeds 1-5, 4 and 8 proposers, both clusters
 * (mean of the per-proposer medians / p99s): W = 1 (classic Mencius) 1.55 / 2.28, W = 4 1.47 / 2.17,
 * W = 16 1.42 / 2.08, W = 32 the same as 16. A wider window lets an owner pipeline into consecutive
 * slots of its own, so fewer of the others' slots sit between its request and the prefix.
 */
export const mencius_window_slots_default = 16;
/**
 * Own slots a proposer may have proposed and not yet learnt chosen. Measured (W = 16, same runs):
 * 8 in flight 1.43 / 2.11, 16 and 32 1.42 / 2.08; 4 (with W = 1) made one proposer alone queue
 * (p99 1.80 against 1.21), since at 4 arrivals per RTT a burst outruns 4 slots in flight.
 */
export const mencius_slots_in_flight_max = 16;
/** Slots one skip or one revocation message may list (an assertion for skips: far above anything a run reaches). */
export const slots_per_message_max = 100_000;
/**
 * How long a proposer waiting on acknowledgements lets the prefix stand still before it revokes the
 * owner of the first unknown slot, at least: each wait is drawn up to half again from `env.rng`
 * (500-750 ms), so two waiting proposers seldom revoke at once. Above the worst skip gate of the table's mixes with every hop at
 * its worst jitter (weur's, 4.42 x 80.5 = 356 ms; see mencius.test.ts), so no run without a vanished
 * owner revokes.
 */
export const mencius_revocation_timeout_ms = 500;
/** A revocation takes the silent owner's slots this many rounds of windows past the highest slot seen. */
export const revocation_windows_ahead = 64;
