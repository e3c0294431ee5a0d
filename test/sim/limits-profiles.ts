/**
 * Limits the simulator turns down. A share of the seeds runs every proposer and acceptor with a tiny
 * profile drawn from the seed, so that the paths behind the limits run in every CI run: the
 * re-prepare loop (truncated Promise listings), phase-2 chunking (small messages), catch-up paging
 * (small pages), the apply limit, owed-commit batches, and backpressure with its 429 (small queues).
 * Production never uses these: the Durable Object and the Worker keep `limits`.
 */
import { type CoreLimits, limits } from "../../src/core/limits.js";
import type { Prng } from "./prng.js";

/** The share of seeds that run with a tiny profile. */
export const tiny_limits_share = 0.3;

/** The largest request a simulated client sends, in entries (fills of 1 to 3, conflicts of 2). */
export const client_request_entries_max = 3;

/** A tiny profile drawn from the seed; every other limit stays production's. */
export function tinyLimits(rng: Prng): CoreLimits {
  const message_slots_max = rng.int(3, 4);
  // An Accept holds its chunk and the commits owed to its acceptor: at least one slot of chunk.
  const owed_commit_slots_max = rng.int(1, message_slots_max - 2);
  // A client request always fits one slot (the proposer asserts it), so a slot holds the largest one.
  const slot_entries_max = rng.int(client_request_entries_max, client_request_entries_max + 1);
  return {
    ...limits,
    promise_slots_max: rng.int(2, 4),
    catch_up_slots_max: rng.int(1, 2),
    message_slots_max,
    owed_commit_slots_max,
    owed_commit_bytes_max: rng.int(1_000, 4_000),
    slot_entries_max,
    request_entries_max: slot_entries_max,
    apply_slots_per_message_max: rng.int(1, 3),
    // Two or three requests queue per proposer; a fourth client's request is refused (429) and retried.
    proposer_queue_requests_max: rng.int(1, 3),
    // Enough bytes for the largest client request (about 250 bytes an entry), not for many.
    proposer_queue_bytes_max: rng.int(1_500, 3_000),
  };
}
