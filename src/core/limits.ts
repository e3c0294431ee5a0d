/** Every queue, batch, body and loop has a named limit. They all live here. */
export const limits = {
  /** Entries in one client request (`{"entries": [...]}`); part of the API contract (README, "The API"). */
  request_entries_max: 1000,
  /** Entries the proposer packs into one slot by group commit. */
  slot_entries_max: 1000,
  /**
   * UTF-8 bytes of the entries one slot holds: a slot is one SQLite row (2 MB at most), and a request
   * (1 MiB body at most) always fits alone.
   */
  slot_value_bytes_max: 1_800_000,
  /**
   * A driving request runs at most this many group rounds (one slot each, shared by the requests it
   * groups: the `round` of the limits below), for at most this long, then hands over.
   */
  driver_rounds_max: 64,
  driver_tenure_ms: 5000,
  /**
   * Group rounds the coordinator keeps in flight at once while it leads (`roundsInFlightMax`), each
   * driven by a request of its own. The latency model of design §6 met its p99 targets with 16; every
   * round in flight holds one slot, so this also bounds the slots chosen out of order.
   */
  coordinator_rounds_in_flight_max: 16,
  /**
   * The window of rounds in flight (`round-window.ts`) grows by one after a round that took at most
   * this many times the fastest of the last `round_window_samples` rounds, and halves otherwise.
   */
  round_window_slow_factor: 1.3,
  round_window_samples: 256,
  /**
   * The latest chosen slots (slot and ballot) a proposer with rounds in flight keeps, to name again as
   * commits in an outcome request: the Accept that carried an earlier slot's commit may still be on its
   * way when the request overtakes it. Within `message_slots_max` beside the commits owed.
   */
  outcome_request_commits_max: 64,
  /**
   * How often a waiting request checks whether it has been decided, or must take over driving. Its
   * checks are bounded by its deadline: `takeoverPollsMax` in src/core/proposer/group-commit.ts.
   */
  driver_takeover_poll_ms: 5,
  /** A chosen slot's commit waits this long for the next Accept to carry it before it is sent alone. */
  commit_linger_ms: 10,
  /**
   * Thrifty phase 2: the warm path sends each Accept to the fastest accept quorum only; the other
   * acceptors get the chosen values in one Commit per this many slots or bytes, so the proposer owes
   * each at most this much ...
   */
  owed_commit_slots_max: 16,
  owed_commit_bytes_max: 4 * 1024 * 1024,
  /** ... and the values owed go out when no slot has been chosen for this long. */
  owed_commit_linger_ms: 50,
  /**
   * A thrifty Accept that has no quorum after max(this floor, 2 x the slowest target's latency) also
   * goes to the other acceptors.
   */
  thrifty_escalate_floor_ms: 25,
  /**
   * A group round counts as under load (its Accept is thrifty) when it groups several requests, more
   * wait behind it, or the group round before grouped several and ended less than this long ago.
   */
  thrifty_load_window_ms: 50,
  /** Commits a proposer remembers for its status (time, latency, entries): a ring, oldest dropped. */
  commit_history_max: 1024,
  /** Client requests waiting in one proposer's queue, and their entries' bytes; more are refused (429). */
  proposer_queue_requests_max: 4096,
  proposer_queue_bytes_max: 32 * 1024 * 1024,
  /** Attempts to commit one slot (phase 1 and phase 2 together) before answering 503. */
  append_attempts_max: 12,
  /**
   * The server's whole time for one append, from its arrival to its answer (queue wait included):
   * then 503, outcome unknown. A front-end must learn within about a second or two that the ledger
   * cannot commit. A client may ask for less with `X-Deadline-Ms`, within these bounds (400 beyond).
   */
  commit_deadline_ms: 2000,
  append_deadline_header_ms_min: 10,
  append_deadline_header_ms_max: 600_000,
  /** Backoff between attempts: full jitter under a ceiling that doubles from max(base, quorum RTT) up to the cap. */
  backoff_base_ms: 20,
  backoff_cap_ms: 2000,
  /**
   * How long the proposer waits for a quorum of replies to one message: this many times the measured
   * quorum round trip, within [floor, cap]. The cap is the wait of a proposer with nothing measured
   * yet (a cold isolate); the floor keeps a slow moment of a live acceptor (a big batch, a busy
   * host) from passing for a failure.
   */
  quorum_timeout_ms: 1000,
  /**
   * A sole proposer (`ProposerOptions.recoveryOutlivesRequests`, the coordinator) gives a group round
   * that must first run phase 1 at least this long, whatever its requests' deadlines: they are still
   * answered at their own (503, outcome unknown), but the leadership the round was building is not
   * thrown away to be built again at a higher ballot by the next round, whose requests have waited
   * as long. Two cold quorum waits: a prepare and an Accept.
   */
  recovery_round_floor_ms: 2000,
  quorum_timeout_floor_ms: 400,
  quorum_timeout_rtt_multiple: 4,
  /**
   * An acceptor whose call failed or went unanswered for a whole quorum timeout counts as unreachable
   * for this long (unless it answers meanwhile). While fewer than a quorum are reachable, a failed
   * attempt is not retried (503 at once) and the requests queued behind it are answered at once,
   * unsent; a new group round's first attempt always runs, so a healed region is used by the next
   * request.
   */
  acceptor_failure_memory_ms: 1000,
  /**
   * Subrequests of one group round (every Durable Object call is one): at most this many quorum
   * calls (a prepare, an Accept chunk or an outcome query: at most one message per acceptor each;
   * enough for a phase 1 over `recovery_rounds_max` truncated promises and its phase 2), plus this
   * many background commits per acceptor after it. A driver starts a further group round only when
   * its request's budget (`ProposerEnv.subrequestsLeft`) covers that whole bound, else it hands over;
   * a tenure's first group round runs on what is left if that allows at least the minimum of quorum
   * calls (a phase 1 and a phase 2). A group round that spends its calls answers 503.
   */
  round_quorum_calls_max: 20,
  round_quorum_calls_min: 2,
  round_background_messages_per_acceptor: 3,
  /** Accepted slots one Promise reports above the acceptor's chosenThrough. */
  promise_slots_max: 256,
  /** Chosen slots one catch-up reply carries. */
  catch_up_slots_max: 64,
  /** Slots one Commit or Accept message may name. */
  message_slots_max: 512,
  /** Slots an acceptor applies while handling one message (the rest on the next one). */
  apply_slots_per_message_max: 1024,
  /**
   * Prepare rounds (prepares at one ballot, each from above the last listing) one phase 1 runs while
   * recovering a truncated backlog before giving up on the attempt.
   */
  recovery_rounds_max: 16,
  /** Ids one `entriesByIds` lookup takes (a slot's ids and refIds, at most 2 per entry). */
  id_lookup_ids_max: 2 * 1000,
  /** Client field sizes. */
  id_chars_max: 128,
  name_chars_max: 64,
  text_chars_max: 256,
  metadata_keys_max: 16,
  /** Decimal strings: digits before and after the point. */
  decimal_integer_digits_max: 20,
  decimal_fraction_digits_max: 12,
  /** Fraction digits kept when a division is rounded (average price, a partial close's cost). */
  division_fraction_digits: 12,
  /**
   * Nesting of arrays and objects in a request body. An append needs 4 (batch, list, entry,
   * metadata); deeper bodies are refused as `invalid_json` before anything walks them.
   */
  json_nesting_depth_max: 32,
  /** Characters of a client's value that an error echoes back; a longer value is cut and marked. */
  echoed_value_chars_max: 128,
  /** Characters of an error's message (it may quote input, such as a path); longer is cut and marked. */
  error_message_chars_max: 512,
} as const;

/**
 * The limits as values a component can be given: the same names, plain numbers. Production passes
 * nothing and gets `limits`; the simulator turns some of them down (tiny Promise listings, catch-up
 * pages, messages, slots and queues) so that the paths behind them run in every test run.
 */
export type CoreLimits = { readonly [K in keyof typeof limits]: number };

/**
 * Anti-entropy timings of the acceptor (the Durable Object's alarm), in one place so that the
 * Durable Object and the simulator's acceptor follow the same rules with the same numbers.
 */
export const anti_entropy = {
  /** When an accepted slot's commit has not come after this long, the alarm asks the peers. */
  unchosen_alarm_ms: 2000,
  /** After its first protocol message since the alarm last fired, an acceptor asks its peers once whether it missed anything. */
  idle_probe_ms: 30_000,
  /** When no peer answered a probe, it asks again after this. */
  unreachable_retry_ms: 60_000,
  /** A known gap is fetched at once, and again after this while it remains. */
  gap_retry_ms: 500,
  /** Catch-up rounds one alarm runs (each fetches up to `catch_up_slots_max` slots from every peer). */
  catch_up_rounds_per_alarm_max: 16,
  /** A restarted acceptor (its constructor, on the first request after an eviction) asks its peers after this. */
  restart_probe_ms: 1000,
} as const;
