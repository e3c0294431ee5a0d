/**
 * Mencius-style disjoint slot ownership (issue #12 prototype; Mao, Junqueira, Marzullo, OSDI 2008),
 * a latency model over the harness's `PrototypeNet`, not production code.
 *
 * Ownership: the proposers of the mix are the owners. Slots are dealt round-robin in windows of
 * `window_slots` (W): slot s belongs to owner floor(s / W) mod n. Every slot is pre-prepared at
 * ballot 0 for its owner, and only the owner ever sends a ballot-0 accept for it, one value per slot
 * (a batch, or a skip). So an owner commits a batch in its next unused own slot with one round trip
 * to an accept quorum, without phase 1 and without preempting anyone.
 *
 * Choosing a slot: an owner proposes in its first own slot above the highest slot it has seen voted
 * (and above its own last), and skips (no-op) every own slot it leaves behind. Skips: whenever an
 * owner learns of a vote for a slot s, it skips at once every own slot below s it has not used,
 * idle or not (this is Mencius' cost: the farthest owner's one-way delays gate everyone's prefix).
 * A skip goes in ONE message per destination (every other proposer and every acceptor), listing the
 * slots.
 *
 * Learning (what a proposer knows): every acceptor sends each vote it casts (slot, ballot, value) to
 * every proposer after its durable write; a learner knows a slot is chosen when `quorum.accept`
 * acceptors voted the same value at one ballot. A skip is chosen ON RECEIPT of the owner's skip,
 * without waiting for votes, as in Mencius: ballot 0 of a slot belongs to its owner alone, who sends
 * one value per slot, so a slot its owner skipped had no-op as its only ballot-0 value; revocation
 * (higher ballots) adopts the highest-ballot vote it finds in a phase-1 quorum, or proposes no-op,
 * so no value but no-op can ever be chosen there. Acceptors record the skip as a ballot-0 vote (one
 * durable write, no reply). There are no "chosen" notices: votes reach every learner directly.
 * A request is acknowledged when its proposer knows its slot AND every earlier slot chosen.
 *
 * Revocation (for a vanished owner; the latency runs never trigger it, `revocations` stays 0): a
 * proposer that waits on acknowledgements while its learnt prefix stands still for
 * `revocation_timeout_ms` (drawn up to half again from `env.rng`, so waiters seldom revoke at once)
 * runs phase 1 at a ballot of its own (round * n + index + 1 > 0) on the silent owner's unlearnt
 * slots from the prefix to `revocation_windows_ahead` rounds of windows past the highest slot seen,
 * on a prepare quorum, then phase 2 of the highest-ballot value each promise reported, or no-op.
 * An owner whose own slot is learnt with another value sends its requests round again. The
 * `vanishing` option silences one owner from a given time (an evicted isolate).
 *
 * Cold joiners: by default `addProposer` is undefined. The slot map is fixed by the proposers of
 * the run; a newcomer could only own windows after a membership change (a map change chosen in the
 * log, taking effect past every slot anyone may already use, plus a catch-up of the log for the
 * newcomer), which is not built. On this platform every evicted isolate is a vanished owner: its
 * slots stall everyone's prefix until revoked, after 500-750 ms (the timeout, drawn) plus two round
 * trips: measured 9-12 own quorum RTTs at the others' max (seeds 1-3, 4 proposers, 3 or 5
 * acceptors); mencius.test.ts asserts only the bound computed from the timeout and the RTTs. The
 * option `coldJoinersForward` is the way out that needs no membership change: a newcomer owns
 * nothing and forwards to the nearest owner, i.e. owners must be durable (a Durable Object per
 * region) and Workers forward to them, a coordinator per region with Mencius between them.
 *
 * Safety self-check (`checkSafety`, in ./mencius/safety.ts): chosen values are computed from the acceptors' recorded votes
 * (accept-quorum votes for one value at one ballot, chosen when the accept-quorum-th was recorded)
 * plus the skips the network carried (a skip is the owner's ballot-0 decision, logged and chosen
 * when sent, independently of any learner); at most one value per slot, every acknowledged request
 * in exactly one chosen slot (its own), acknowledged no earlier than every slot up to it was chosen,
 * every learner's log equal to the chosen log on every slot it learnt. Sabotage: `overlappingOwners`
 * gives every window two owners (caught: two chosen values); `ackBeforePrefix` acknowledges an own
 * slot once learnt (caught: acknowledged while an earlier slot was not yet chosen).
 */
import { type RegionHint, regionRtt_ms } from "../../../src/core/region-rtt.js";
import type { Prototype, PrototypeEnv, PrototypeFactory, PrototypeProposer } from "./harness.js";
import { Acceptor } from "./mencius/acceptor.js";
import {
  mencius_revocation_timeout_ms,
  mencius_slots_in_flight_max,
  mencius_window_slots_default,
} from "./mencius/limits.js";
import { Ownership } from "./mencius/ownership.js";
import { MProposer } from "./mencius/proposer.js";
import type { MenciusRun } from "./mencius/run.js";
import { checkMenciusSafety } from "./mencius/safety.js";
import type { Acknowledgement } from "./mencius/values.js";

// The parts live in ./mencius/, each named for what it holds; this file keeps the public API.
export {
  mencius_pending_requests_max,
  mencius_revocation_timeout_ms,
  mencius_slots_in_flight_max,
  mencius_window_slots_default,
} from "./mencius/limits.js";

export interface MenciusOptions {
  /** W: consecutive slots per ownership window. */
  readonly window_slots?: number;
  readonly slots_in_flight_max?: number;
  /** Sabotage: every window has two owners (its own and the previous proposer), so two values can meet in one slot. */
  readonly overlappingOwners?: boolean;
  /** Sabotage: an owner acknowledges an own slot as soon as it learns it chosen, without waiting for the earlier slots. */
  readonly ackBeforePrefix?: boolean;
  readonly revocation_timeout_ms?: number;
  /** An owner that vanishes at `at_ms` (an evicted isolate): silent from then on, its slots revoked by the others. */
  readonly vanishing?: { readonly proposer: number; readonly at_ms: number };
  /**
   * NOT a membership change: a cold isolate owns no slots and forwards each request to the owner
   * nearest it (by RTT), which answers back once acknowledged. This is Mencius with durable owners
   * (say one Durable Object per region) that every Worker forwards to; off by default, when
   * `addProposer` is undefined.
   */
  readonly coldJoinersForward?: boolean;
}

export const describeMencius =
  "Mencius-style windows: slot s owned by proposer floor(s/W) mod n (W = 16, 16 slots in flight), pre-prepared at ballot 0, " +
  "one accept-quorum round trip per batch; owners skip unused slots below any vote they see (a skip is chosen on receipt); " +
  "ack once the whole prefix is known; a silent owner's slots are revoked after 500-750 ms (an evicted isolate stalled " +
  "the log 9-12 quorum RTTs, measured on seeds 1-3, both clusters); no membership change, so a cold isolate can only forward to the nearest owner (option)";

class Mencius implements Prototype, MenciusRun {
  readonly ownership: Ownership;
  readonly slots_in_flight_max: number;
  readonly acceptors: Acceptor[];
  readonly proposers: MProposer[];
  readonly ackBeforePrefix: boolean;
  readonly acknowledged: Acknowledgement[] = [];
  /** Every skip the network carried, logged at send: the owners' ballot-0 no-ops. */
  readonly skipsSent: Array<{ readonly slot: number; readonly owner: number; readonly at_ms: number }> = [];
  batches = 0;
  requestsBatched = 0;
  skipSlots = 0;
  skipMessages = 0;
  revocations = 0;
  revocationsRefused = 0;
  ownSlotsRevoked = 0;
  readonly revocation_timeout_ms: number;
  forwarded = 0;
  readonly addProposer?: (region: RegionHint) => PrototypeProposer;

  constructor(
    readonly env: PrototypeEnv,
    options: MenciusOptions,
  ) {
    const window_slots = options.window_slots ?? mencius_window_slots_default;
    if (!Number.isInteger(window_slots) || window_slots < 1)
      throw new RangeError(`mencius: window_slots ${window_slots}`);
    this.ownership = new Ownership(env.proposerRegions.length, window_slots, options.overlappingOwners ?? false);
    this.slots_in_flight_max = options.slots_in_flight_max ?? mencius_slots_in_flight_max;
    this.ackBeforePrefix = options.ackBeforePrefix ?? false;
    this.acceptors = env.acceptorRegions.map((r, i) => new Acceptor(i, r, this));
    this.proposers = env.proposerRegions.map((r, i) => new MProposer(i, r, this));
    this.revocation_timeout_ms = options.revocation_timeout_ms ?? mencius_revocation_timeout_ms;
    if (options.coldJoinersForward === true) this.addProposer = (region) => this.forwarder(region);
    const { vanishing } = options;
    if (vanishing !== undefined) {
      const p = this.proposers[vanishing.proposer];
      if (p === undefined) throw new RangeError(`mencius: no proposer ${vanishing.proposer} to vanish`);
      env.world.schedule(vanishing.at_ms, () => {
        p.gone = true;
      });
    }
  }

  /** A cold isolate that forwards to the nearest owner (the first of equals): one hop there, one back. */
  private forwarder(region: RegionHint): PrototypeProposer {
    const { net } = this.env;
    const owner = this.proposers.reduce((best, p) =>
      regionRtt_ms(region, p.region) < regionRtt_ms(region, best.region) ? p : best,
    );
    return {
      region,
      append: (requestId) =>
        new Promise<void>((resolve) => {
          this.forwarded++;
          net.send(region, owner.region, () => {
            void owner.append(requestId).then(() => net.send(owner.region, region, resolve));
          });
        }),
    };
  }

  checkSafety(): void {
    checkMenciusSafety(this);
  }

  stats(): Readonly<Record<string, number>> {
    return {
      window_slots: this.ownership.window_slots,
      batches: this.batches,
      requests_per_batch: this.batches === 0 ? 0 : this.requestsBatched / this.batches,
      skipped_slots: this.skipSlots,
      skip_messages: this.skipMessages,
      revocations: this.revocations,
      revocations_refused: this.revocationsRefused,
      own_slots_revoked: this.ownSlotsRevoked,
      forwarded: this.forwarded,
    };
  }
}

export function menciusPrototypeWith(options: MenciusOptions = {}): PrototypeFactory {
  return (env) => new Mencius(env, options);
}

export const menciusPrototype: PrototypeFactory = menciusPrototypeWith();

/**
 * Mencius between durable owners, one per region (a Durable Object per region, say), that every
 * Worker forwards to: the owners are the distinct regions of the mix, in order of first appearance,
 * and every proposer of the mix (and every cold joiner) is a forwarder to its region's owner, so a
 * Worker's latency includes its hop to the owner (the RTT table's same-region figure) and back. No
 * membership change is needed when isolates come and go; an owner that vanishes still stalls the
 * log until revoked, as in `menciusPrototype`.
 */
export function menciusRegionalOwnersWith(options: MenciusOptions = {}): PrototypeFactory {
  return (env) => {
    const ownerRegions = [...new Set(env.proposerRegions)];
    const inner = new Mencius({ ...env, proposerRegions: ownerRegions }, { ...options, coldJoinersForward: true });
    const join = inner.addProposer;
    if (join === undefined) throw new Error("mencius: forwarding owners need coldJoinersForward");
    return {
      proposers: env.proposerRegions.map((region) => join.call(inner, region)),
      addProposer: (region) => join.call(inner, region),
      checkSafety: () => inner.checkSafety(),
      stats: () => inner.stats(),
    };
  };
}

export const describeMenciusRegionalOwners =
  "the same Mencius windows between one durable owner per region of the mix (a Durable Object per region), " +
  "every Worker and every cold isolate forwarding to its region's owner (hop included)";
