/**
 * A Mencius proposer, owner of its windows' slots and learner of all: it batches requests into its
 * next free own slot, skips the own slots it leaves behind, learns from the acceptors' votes and the
 * owners' skips, acknowledges in log order, and revokes a silent owner's slots (see `../mencius.ts`).
 */
import type { RegionHint } from "../../../../src/core/region-rtt.js";
import { type PrototypeProposer, prototype_batch_requests_max } from "../harness.js";
import { mencius_pending_requests_max, revocation_windows_ahead, slots_per_message_max } from "./limits.js";
import type { MenciusRun, ProposerPeer } from "./run.js";
import { type PromiseReply, skip_value, type Value, type Vote, valueKey } from "./values.js";

interface Waiter {
  readonly id: string;
  readonly resolve: () => void;
}

interface OwnSlot {
  readonly slot: number;
  readonly value: Value & { kind: "batch" };
  readonly waiters: readonly Waiter[];
}

interface Revocation {
  readonly ballot: number;
  readonly slots: readonly number[];
  readonly promises: Map<number, readonly Vote[]>;
}

export class MProposer implements PrototypeProposer, ProposerPeer {
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
    private readonly m: MenciusRun,
  ) {
    this.nextUnusedOwn = m.ownership.nextOwn(index, 0);
  }

  append(requestId: string): Promise<void> {
    if (this.pending.length >= mencius_pending_requests_max)
      throw new Error(`mencius: proposer ${this.index} holds ${mencius_pending_requests_max} requests unproposed`);
    return new Promise((resolve) => {
      if (this.gone) return; // an evicted isolate answers nothing
      this.pending.push({ id: requestId, resolve });
      this.pump();
    });
  }

  /** Proposes batches while there is room in flight (bounded by the in-flight limit). */
  private pump(): void {
    while (!this.gone && this.pending.length > 0 && this.inFlight < this.m.slots_in_flight_max) {
      const waiters = this.pending.splice(0, prototype_batch_requests_max);
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
    const at_ms = this.m.env.world.now_ms;
    for (const s of slots) this.m.skipsSent.push({ slot: s, owner: this.index, at_ms });
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

  /**
   * Acknowledges own slots below the learnt prefix, in slot order; a slot revoked to another value
   * sends its requests round again. Under the `ackBeforePrefix` sabotage, every own slot learnt.
   */
  private acknowledge(): void {
    const requeued: Waiter[] = [];
    const now_ms = this.m.env.world.now_ms;
    const early = this.m.ackBeforePrefix;
    // Bounded by the own slots: each is acknowledged (and removed) or passed over once.
    for (let i = 0; i < this.own.length; ) {
      const o = this.own[i]!;
      if (o.slot >= this.prefix && !(early && this.learnt.has(o.slot))) {
        if (!early) break; // in slot order: no later own slot is below the prefix either
        i++;
        continue;
      }
      this.own.splice(i, 1);
      const chosen = this.learnt.get(o.slot)!;
      if (valueKey(chosen) !== o.value.id) {
        this.m.ownSlotsRevoked++;
        requeued.push(...o.waiters);
        continue;
      }
      for (const w of o.waiters) {
        this.m.acknowledged.push({ id: w.id, slot: o.slot, at_ms: now_ms });
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
