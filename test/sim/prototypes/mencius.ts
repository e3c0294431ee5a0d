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
 * slots stall everyone's prefix until revoked, about 1-1.5 x 500 ms plus two round trips (measured
 * 9-12 own quorum RTTs at the others' max, 4 proposers, 3 or 5 acceptors; mencius.test.ts). The
 * option `coldJoinersForward` is the way out that needs no membership change: a newcomer owns
 * nothing and forwards to the nearest owner, i.e. owners must be durable (a Durable Object per
 * region) and Workers forward to them, a coordinator per region with Mencius between them.
 *
 * Safety self-check (`checkSafety`): chosen values are computed from the acceptors' recorded votes
 * (accept-quorum votes for one value at one ballot) plus the skips the network carried (a skip is
 * the owner's ballot-0 decision, logged when sent, independently of any learner); at most one value
 * per slot, every acknowledged request in exactly one chosen slot, every learner's log equal to the
 * chosen log on every slot it learnt. Sabotage: `overlappingOwners` gives every window two owners.
 */
import { type RegionHint, regionRtt_ms } from "../../../src/core/region-rtt.js";
import type { Prototype, PrototypeEnv, PrototypeFactory, PrototypeProposer } from "./harness.js";

/** Requests one slot's value carries at most. */
export const batch_requests_max = 64;
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
const slots_per_message_max = 100_000;
/**
 * How long a proposer waiting on acknowledgements lets the prefix stand still before it revokes the
 * owner of the first unknown slot. Above the worst skip gate of the table's mixes with every hop at
 * its worst jitter (weur's, 4.42 x 80.5 = 356 ms; see mencius.test.ts), so no run without a vanished
 * owner revokes.
 */
export const mencius_revocation_timeout_ms = 500;
/** A revocation takes the silent owner's slots this many rounds of windows past the highest slot seen. */
const revocation_windows_ahead = 64;

export interface MenciusOptions {
  /** W: consecutive slots per ownership window. */
  readonly window_slots?: number;
  readonly slots_in_flight_max?: number;
  /** Sabotage: every window has two owners (its own and the previous proposer), so two values can meet in one slot. */
  readonly overlappingOwners?: boolean;
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
  "ack once the whole prefix is known; a silent owner's slots are revoked after 500 ms (an evicted isolate stalls the log " +
  "~9-12 quorum RTTs); no membership change, so a cold isolate can only forward to the nearest owner (option)";

type Value =
  | { readonly kind: "batch"; readonly id: string; readonly requests: readonly string[] }
  | { readonly kind: "skip" };
const skip_value: Value = { kind: "skip" };
const valueKey = (v: Value) => (v.kind === "skip" ? "skip" : v.id);

interface Vote {
  readonly slot: number;
  readonly ballot: number;
  readonly value: Value;
}

/** The slot map: who may send ballot-0 values for a slot. */
class Ownership {
  constructor(
    readonly owners: number,
    readonly window_slots: number,
    private readonly overlapping: boolean,
  ) {}

  ownerOf(slot: number): number {
    return Math.floor(slot / this.window_slots) % this.owners;
  }

  owns(p: number, slot: number): boolean {
    const o = this.ownerOf(slot);
    return o === p || (this.overlapping && this.owners > 1 && o === (p + 1) % this.owners);
  }

  /** The first slot >= `from` that `p` owns (at most `owners` windows away). */
  nextOwn(p: number, from: number): number {
    let window = Math.floor(from / this.window_slots);
    for (let i = 0; i <= this.owners; i++, window++) {
      const start = window * this.window_slots;
      if (this.owns(p, start)) return Math.max(from, start);
    }
    throw new Error(`mencius: proposer ${p} owns no window after slot ${from}`);
  }
}

class Acceptor {
  /** Every vote cast, in order: what `checkSafety` computes the chosen log from. */
  readonly votes: Vote[] = [];
  /** The highest ballot each slot has promised or accepted (above 0 only after a revocation's phase 1). */
  private readonly promised = new Map<number, number>();
  private readonly accepted = new Map<number, Vote>();

  constructor(
    readonly index: number,
    readonly region: RegionHint,
    private readonly m: Mencius,
  ) {}

  /** Phase-2 accepts: recorded at once, broadcast to every learner after the durable write (one message each). */
  accept(votes: readonly Vote[]): void {
    const cast = votes.filter((v) => v.ballot >= (this.promised.get(v.slot) ?? 0));
    if (cast.length === 0) return;
    for (const v of cast) {
      this.votes.push(v);
      this.accepted.set(v.slot, v);
      this.promised.set(v.slot, v.ballot);
    }
    const { net } = this.m.env;
    this.m.env.world.schedule(net.write_ms(), () => {
      for (const p of this.m.proposers) net.send(this.region, p.region, () => p.onVotes(this.index, cast));
    });
  }

  /** The owner's skip: recorded as ballot-0 no-op votes (for revocation and the record); learners got it directly. */
  skip(slots: readonly number[]): void {
    for (const slot of slots) {
      if ((this.promised.get(slot) ?? 0) > 0 || this.accepted.has(slot)) continue;
      const vote: Vote = { slot, ballot: 0, value: skip_value };
      this.votes.push(vote);
      this.accepted.set(slot, vote);
    }
  }

  /**
   * A revocation's phase 1 on a list of slots: promises `ballot` on all of them and answers with what
   * it accepted there (after the durable write), or refuses them all if any promised as high.
   */
  prepare(from: MProposer, ballot: number, slots: readonly number[]): void {
    const { net } = this.m.env;
    const highest = slots.reduce((h, s) => Math.max(h, this.promised.get(s) ?? 0), 0);
    if (highest >= ballot) {
      net.send(this.region, from.region, () => from.onPromise(this.index, ballot, { refusedBy: highest }));
      return;
    }
    for (const s of slots) this.promised.set(s, ballot);
    const accepted = slots.flatMap((s) => this.accepted.get(s) ?? []);
    this.m.env.world.schedule(net.write_ms(), () => {
      net.send(this.region, from.region, () => from.onPromise(this.index, ballot, { accepted }));
    });
  }
}

interface Waiter {
  readonly id: string;
  readonly resolve: () => void;
}

interface OwnSlot {
  readonly slot: number;
  readonly value: Value & { kind: "batch" };
  readonly waiters: readonly Waiter[];
}

type PromiseReply = { readonly accepted: readonly Vote[] } | { readonly refusedBy: number };

interface Revocation {
  readonly ballot: number;
  readonly slots: readonly number[];
  readonly promises: Map<number, readonly Vote[]>;
}

class MProposer implements PrototypeProposer {
  private readonly pending: Waiter[] = [];
  /** Own slots proposed, in slot order, until acknowledged. */
  private readonly own: OwnSlot[] = [];
  private inFlight = 0;
  /** Every own slot below this one is used (proposed or skipped). */
  private nextUnusedOwn: number;
  /** The highest slot seen voted at ballot 0 (an owner's own proposal; revocations do not move it). */
  private highestSeen = -1;
  private proposed = 0;
  /** Every slot below `prefix` is learnt. */
  private prefix = 0;
  private prefixSince_ms = 0;
  readonly learnt = new Map<number, Value>();
  /** Votes of slots not yet learnt: slot -> "ballot/value" -> acceptors. */
  private readonly tallies = new Map<number, Map<string, Set<number>>>();
  /** Two different values learnt for one slot (only the sabotage can do this; `checkSafety` reports it). */
  readonly conflicts: string[] = [];
  /** Vanished (the `vanishing` option): it hears nothing, sends nothing, answers nothing. */
  gone = false;
  private revocationTimerArmed = false;
  private revocation: Revocation | undefined;
  /** Revocation ballots are round * owners + index + 1: above 0, and never the same for two proposers. */
  private round = 0;

  constructor(
    readonly index: number,
    readonly region: RegionHint,
    private readonly m: Mencius,
  ) {
    this.nextUnusedOwn = m.ownership.nextOwn(index, 0);
  }

  append(requestId: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.gone) return; // an evicted isolate answers nothing
      this.pending.push({ id: requestId, resolve });
      this.pump();
    });
  }

  /** Proposes batches while there is room in flight (bounded by the in-flight limit). */
  private pump(): void {
    while (!this.gone && this.pending.length > 0 && this.inFlight < this.m.slots_in_flight_max) {
      const waiters = this.pending.splice(0, batch_requests_max);
      const slot = this.freeOwnSlot(Math.max(this.nextUnusedOwn, this.highestSeen + 1));
      this.skipBelow(slot);
      this.nextUnusedOwn = this.m.ownership.nextOwn(this.index, slot + 1);
      const value: OwnSlot["value"] = {
        kind: "batch",
        id: `p${this.index}b${this.proposed++}`,
        requests: waiters.map((w) => w.id),
      };
      // The stuck-prefix clock counts only while something waits: an idle stretch is no silence.
      if (this.own.length === 0) this.prefixSince_ms = this.m.env.world.now_ms;
      this.own.push({ slot, value, waiters });
      this.inFlight++;
      this.m.batches++;
      this.m.requestsBatched += waiters.length;
      const votes: Vote[] = [{ slot, ballot: 0, value }];
      for (const a of this.m.acceptors) this.m.env.net.send(this.region, a.region, () => a.accept(votes));
    }
    this.armRevocation();
  }

  /** The first own slot from `from` on that no revocation has filled already (a revoked slot is learnt). */
  private freeOwnSlot(from: number): number {
    let slot = this.m.ownership.nextOwn(this.index, from);
    for (let i = 0; this.learnt.has(slot); i++) {
      if (i >= slots_per_message_max)
        throw new Error(`mencius: proposer ${this.index} finds no free own slot after ${from}`);
      slot = this.m.ownership.nextOwn(this.index, slot + 1);
    }
    return slot;
  }

  /** Skips every own slot below `limit` not yet used: one message to each other proposer and each acceptor. */
  private skipBelow(limit: number): void {
    const slots: number[] = [];
    let t = this.m.ownership.nextOwn(this.index, this.nextUnusedOwn);
    while (t < limit) {
      if (slots.length >= slots_per_message_max)
        throw new Error(`mencius: proposer ${this.index} skips more than ${slots_per_message_max} slots at once`);
      slots.push(t);
      t = this.m.ownership.nextOwn(this.index, t + 1);
    }
    this.nextUnusedOwn = t;
    if (slots.length === 0) return;
    this.m.skipSlots += slots.length;
    this.m.skipMessages++;
    for (const s of slots) this.m.skipsSent.push({ slot: s, owner: this.index });
    for (const p of this.m.proposers) {
      if (p !== this) this.m.env.net.send(this.region, p.region, () => p.onSkip(slots));
    }
    for (const a of this.m.acceptors) this.m.env.net.send(this.region, a.region, () => a.skip(slots));
    this.onSkip(slots);
  }

  /** Votes from an acceptor: tallied; an owner's vote above its unused slots obliges this owner to skip them. */
  onVotes(acceptor: number, votes: readonly Vote[]): void {
    if (this.gone) return;
    for (const vote of votes) {
      if (vote.ballot === 0 && vote.slot > this.highestSeen) {
        this.highestSeen = vote.slot;
        this.skipBelow(vote.slot);
      }
      if (this.learnt.has(vote.slot)) continue;
      let bySlot = this.tallies.get(vote.slot);
      if (bySlot === undefined) {
        bySlot = new Map();
        this.tallies.set(vote.slot, bySlot);
      }
      const key = `${vote.ballot}/${valueKey(vote.value)}`;
      let voters = bySlot.get(key);
      if (voters === undefined) {
        voters = new Set();
        bySlot.set(key, voters);
      }
      voters.add(acceptor);
      if (voters.size >= this.m.env.quorum.accept) this.learn(vote.slot, vote.value);
    }
  }

  onSkip(slots: readonly number[]): void {
    if (this.gone) return;
    for (const s of slots) this.learn(s, skip_value);
  }

  private learn(slot: number, value: Value): void {
    const known = this.learnt.get(slot);
    if (known !== undefined) {
      if (valueKey(known) !== valueKey(value)) {
        this.conflicts.push(
          `proposer ${this.index} learnt ${valueKey(known)} then ${valueKey(value)} for slot ${slot}`,
        );
      }
      return;
    }
    this.learnt.set(slot, value);
    this.tallies.delete(slot);
    if (this.own.some((o) => o.slot === slot)) this.inFlight--;
    const before = this.prefix;
    // Bounded by the slots learnt: each passes the prefix once.
    while (this.learnt.has(this.prefix)) this.prefix++;
    if (this.prefix !== before) this.prefixSince_ms = this.m.env.world.now_ms;
    this.acknowledge();
    this.pump();
  }

  /** Acknowledges own slots below the learnt prefix, in slot order; a slot revoked to another value sends its requests round again. */
  private acknowledge(): void {
    const requeued: Waiter[] = [];
    while (this.own.length > 0 && this.own[0]!.slot < this.prefix) {
      const o = this.own.shift()!;
      const chosen = this.learnt.get(o.slot)!;
      if (valueKey(chosen) !== o.value.id) {
        this.m.ownSlotsRevoked++;
        requeued.push(...o.waiters);
        continue;
      }
      for (const w of o.waiters) {
        this.m.acknowledged.push(w.id);
        w.resolve();
      }
    }
    this.pending.unshift(...requeued);
  }

  /**
   * While this proposer waits on acknowledgements, a prefix stuck for `revocation_timeout_ms` (plus
   * up to half again, drawn, so two waiting proposers seldom revoke at once) means the owner of the
   * first unknown slot is silent: revoke its slots. No timer runs while nothing waits.
   */
  private armRevocation(): void {
    if (this.gone || this.revocationTimerArmed || this.own.length === 0) return;
    this.revocationTimerArmed = true;
    const timeout_ms = this.m.revocation_timeout_ms;
    const due_ms = this.prefixSince_ms + timeout_ms * (1 + this.m.env.rng.uniform(0, 0.5));
    this.m.env.world.schedule(due_ms - this.m.env.world.now_ms, () => {
      this.revocationTimerArmed = false;
      if (this.gone || this.own.length === 0) return;
      const stuck = this.m.env.world.now_ms - this.prefixSince_ms >= timeout_ms && !this.learnt.has(this.prefix);
      if (stuck) {
        this.revoke(this.m.ownership.ownerOf(this.prefix));
        // The next check counts from now: the revocation needs its own round trips.
        this.prefixSince_ms = this.m.env.world.now_ms;
      }
      this.armRevocation();
    });
  }

  /**
   * Phase 1 at a ballot of this proposer's on `owner`'s unlearnt slots from the prefix to
   * `revocation_windows_ahead` rounds of windows past the highest slot seen (so the log can run on
   * for a while without revoking again), then phase 2 of the highest-ballot value each promise
   * reported, or a no-op where none did.
   */
  private revoke(owner: number): void {
    // Its own slot too: a slot refused at ballot 0 (promised to a revocation that then gave way) is
    // filled like any other, and its requests go round again.
    if (this.revocation !== undefined) return;
    const { ownership } = this.m;
    const end = this.highestSeen + 1 + revocation_windows_ahead * ownership.window_slots * ownership.owners;
    const slots: number[] = [];
    for (let t = ownership.nextOwn(owner, this.prefix); t < end; t = ownership.nextOwn(owner, t + 1)) {
      if (slots.length >= slots_per_message_max) break;
      if (!this.learnt.has(t)) slots.push(t);
    }
    if (slots.length === 0) return;
    this.round++;
    const ballot = this.round * ownership.owners + this.index + 1;
    this.revocation = { ballot, slots, promises: new Map() };
    this.m.revocations++;
    for (const a of this.m.acceptors) this.m.env.net.send(this.region, a.region, () => a.prepare(this, ballot, slots));
  }

  onPromise(acceptor: number, ballot: number, reply: PromiseReply): void {
    const r = this.revocation;
    if (this.gone || r === undefined || r.ballot !== ballot) return;
    if ("refusedBy" in reply) {
      // Someone else revokes at a higher ballot: give way; the timer tries again above it if still stuck.
      this.round = Math.max(this.round, Math.floor(reply.refusedBy / this.m.ownership.owners));
      this.revocation = undefined;
      this.m.revocationsRefused++;
      return;
    }
    r.promises.set(acceptor, reply.accepted);
    if (r.promises.size < this.m.env.quorum.prepare) return;
    this.revocation = undefined;
    const highest = new Map<number, Vote>();
    for (const accepted of r.promises.values()) {
      for (const v of accepted) {
        const h = highest.get(v.slot);
        if (h === undefined || v.ballot > h.ballot) highest.set(v.slot, v);
      }
    }
    const votes: Vote[] = r.slots.map((slot) => ({ slot, ballot, value: highest.get(slot)?.value ?? skip_value }));
    for (const a of this.m.acceptors) this.m.env.net.send(this.region, a.region, () => a.accept(votes));
  }
}

class Mencius implements Prototype {
  readonly ownership: Ownership;
  readonly slots_in_flight_max: number;
  readonly acceptors: Acceptor[];
  readonly proposers: MProposer[];
  readonly acknowledged: string[] = [];
  /** Every skip the network carried, logged at send: the owners' ballot-0 no-ops. */
  readonly skipsSent: Array<{ readonly slot: number; readonly owner: number }> = [];
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

  /** What the acceptors' votes and the owners' skips chose, per slot, computed from nothing a learner holds. */
  private chosenLog(): Map<number, Value> {
    const q2 = this.env.quorum.accept;
    const candidates = new Map<number, Map<string, Value>>();
    const add = (slot: number, value: Value) => {
      let values = candidates.get(slot);
      if (values === undefined) {
        values = new Map();
        candidates.set(slot, values);
      }
      values.set(valueKey(value), value);
    };
    const tally = new Map<string, { vote: Vote; acceptors: Set<number> }>();
    for (const a of this.acceptors) {
      for (const v of a.votes) {
        const key = `${v.slot}/${v.ballot}/${valueKey(v.value)}`;
        const t = tally.get(key) ?? { vote: v, acceptors: new Set<number>() };
        t.acceptors.add(a.index);
        tally.set(key, t);
      }
    }
    for (const { vote, acceptors } of tally.values()) if (acceptors.size >= q2) add(vote.slot, vote.value);
    for (const s of this.skipsSent) add(s.slot, skip_value);
    const chosen = new Map<number, Value>();
    for (const [slot, values] of candidates) {
      if (values.size > 1) {
        throw new Error(
          `mencius safety: slot ${slot} has ${values.size} chosen values: ${[...values.keys()].join(", ")}`,
        );
      }
      chosen.set(slot, [...values.values()][0]!);
    }
    return chosen;
  }

  checkSafety(): void {
    const chosen = this.chosenLog();
    const slotsOf = new Map<string, number[]>();
    for (const [slot, v] of chosen) {
      if (v.kind !== "batch") continue;
      for (const id of v.requests) slotsOf.set(id, [...(slotsOf.get(id) ?? []), slot]);
    }
    for (const id of this.acknowledged) {
      const slots = slotsOf.get(id) ?? [];
      if (slots.length !== 1) {
        throw new Error(
          `mencius safety: acknowledged request ${id} is in ${slots.length} chosen slots (${slots.join(", ")})`,
        );
      }
    }
    for (const p of this.proposers) {
      if (p.conflicts.length > 0) throw new Error(`mencius safety: ${p.conflicts[0]}`);
      for (const [slot, v] of p.learnt) {
        const c = chosen.get(slot);
        if (c === undefined || valueKey(c) !== valueKey(v)) {
          throw new Error(
            `mencius safety: proposer ${p.index} learnt ${valueKey(v)} for slot ${slot}, chosen is ${c === undefined ? "nothing" : valueKey(c)}`,
          );
        }
      }
    }
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
