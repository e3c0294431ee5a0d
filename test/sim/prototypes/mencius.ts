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
 * Revocation of a vanished owner's slots is not built: every proposer of a run stays for the whole
 * run and the network loses nothing, so no slot is ever abandoned. `addProposer` is undefined: on
 * this platform every evicted isolate would be a vanished owner, and a cold isolate cannot become an
 * owner without a membership change of the slot map (see `describeMencius`).
 *
 * Safety self-check (`checkSafety`): chosen values are computed from the acceptors' recorded votes
 * (accept-quorum votes for one value at one ballot) plus the skips the network carried (a skip is
 * the owner's ballot-0 decision, logged when sent, independently of any learner); at most one value
 * per slot, every acknowledged request in exactly one chosen slot, every learner's log equal to the
 * chosen log on every slot it learnt. Sabotage: `overlappingOwners` gives every window two owners.
 */
import type { RegionHint } from "../../../src/core/region-rtt.js";
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
/** Own slots one skip may cover (an assertion: far above anything a run reaches). */
const skip_slots_max = 100_000;

export interface MenciusOptions {
  /** W: consecutive slots per ownership window. */
  readonly window_slots?: number;
  readonly slots_in_flight_max?: number;
  /** Sabotage: every window has two owners (its own and the previous proposer), so two values can meet in one slot. */
  readonly overlappingOwners?: boolean;
}

export const describeMencius =
  "Mencius-style windows: slot s owned by proposer floor(s/W) mod n, pre-prepared at ballot 0, one accept-quorum round trip " +
  "per batch; owners skip unused slots below any vote they see (skip chosen on receipt); ack when the whole prefix is known; " +
  "no revocation, so no cold joiner: an evicted isolate is a vanished owner whose slots stall the log";

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
  readonly votes: Vote[] = [];
  /** The highest ballot each slot has promised (revocation's phase 1; nothing above 0 in these runs). */
  private readonly promised = new Map<number, number>();

  constructor(
    readonly index: number,
    readonly region: RegionHint,
    private readonly m: Mencius,
  ) {}

  /** A phase-2 accept: recorded at once, broadcast to every learner after the durable write. */
  accept(vote: Vote): void {
    if (vote.ballot < (this.promised.get(vote.slot) ?? 0)) return;
    this.votes.push(vote);
    const { net } = this.m.env;
    this.m.env.world.schedule(net.write_ms(), () => {
      for (const p of this.m.proposers) net.send(this.region, p.region, () => p.onVote(this.index, vote));
    });
  }

  /** The owner's skip: recorded as ballot-0 no-op votes (for revocation and the record); learners got it directly. */
  skip(slots: readonly number[]): void {
    for (const slot of slots) {
      if ((this.promised.get(slot) ?? 0) > 0) continue;
      this.votes.push({ slot, ballot: 0, value: skip_value });
    }
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

class MProposer implements PrototypeProposer {
  private readonly pending: Waiter[] = [];
  /** Own slots proposed, in slot order, until acknowledged. */
  private readonly own: OwnSlot[] = [];
  private inFlight = 0;
  /** Every own slot below this one is used (proposed or skipped). */
  private nextUnusedOwn: number;
  private highestSeen = -1;
  private proposed = 0;
  /** Every slot below `prefix` is learnt. */
  private prefix = 0;
  readonly learnt = new Map<number, Value>();
  /** Votes of slots not yet learnt: slot -> "ballot/value" -> acceptors. */
  private readonly tallies = new Map<number, Map<string, Set<number>>>();
  /** Two different values learnt for one slot (only the sabotage can do this; `checkSafety` reports it). */
  readonly conflicts: string[] = [];

  constructor(
    readonly index: number,
    readonly region: RegionHint,
    private readonly m: Mencius,
  ) {
    this.nextUnusedOwn = m.ownership.nextOwn(index, 0);
  }

  append(requestId: string): Promise<void> {
    return new Promise((resolve) => {
      this.pending.push({ id: requestId, resolve });
      this.pump();
    });
  }

  /** Proposes batches while there is room in flight (bounded by the in-flight limit). */
  private pump(): void {
    while (this.pending.length > 0 && this.inFlight < this.m.slots_in_flight_max) {
      const waiters = this.pending.splice(0, batch_requests_max);
      const slot = this.m.ownership.nextOwn(this.index, Math.max(this.nextUnusedOwn, this.highestSeen + 1));
      this.skipBelow(slot);
      this.nextUnusedOwn = this.m.ownership.nextOwn(this.index, slot + 1);
      const value: OwnSlot["value"] = {
        kind: "batch",
        id: `p${this.index}b${this.proposed++}`,
        requests: waiters.map((w) => w.id),
      };
      this.own.push({ slot, value, waiters });
      this.inFlight++;
      this.m.batches++;
      this.m.requestsBatched += waiters.length;
      const vote: Vote = { slot, ballot: 0, value };
      for (const a of this.m.acceptors) this.m.env.net.send(this.region, a.region, () => a.accept(vote));
    }
  }

  /** Skips every own slot below `limit` not yet used: one message to each other proposer and each acceptor. */
  private skipBelow(limit: number): void {
    const slots: number[] = [];
    let t = this.m.ownership.nextOwn(this.index, this.nextUnusedOwn);
    while (t < limit) {
      if (slots.length >= skip_slots_max)
        throw new Error(`mencius: proposer ${this.index} skips more than ${skip_slots_max} slots at once`);
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

  /** A vote from an acceptor: tallied, and it may oblige this owner to skip the own slots below it. */
  onVote(acceptor: number, vote: Vote): void {
    if (vote.slot > this.highestSeen) {
      this.highestSeen = vote.slot;
      this.skipBelow(vote.slot);
    }
    const known = this.learnt.get(vote.slot);
    if (known !== undefined) return;
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

  onSkip(slots: readonly number[]): void {
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
    // Bounded by the slots learnt: each passes the prefix once.
    while (this.learnt.has(this.prefix)) this.prefix++;
    this.acknowledge();
    this.pump();
  }

  /** Acknowledges own slots below the learnt prefix, in slot order. */
  private acknowledge(): void {
    while (this.own.length > 0 && this.own[0]!.slot < this.prefix) {
      const o = this.own.shift()!;
      const chosen = this.learnt.get(o.slot)!;
      if (valueKey(chosen) !== o.value.id) {
        // Only revocation (not built) or the sabotage can put another value in an own slot.
        this.conflicts.push(`proposer ${this.index}'s slot ${o.slot} holds ${valueKey(chosen)}, not its ${o.value.id}`);
        continue;
      }
      for (const w of o.waiters) {
        this.m.acknowledged.push(w.id);
        w.resolve();
      }
    }
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
    };
  }
}

export function menciusPrototypeWith(options: MenciusOptions = {}): PrototypeFactory {
  return (env) => new Mencius(env, options);
}

export const menciusPrototype: PrototypeFactory = menciusPrototypeWith();
