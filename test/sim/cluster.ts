/**
 * A simulated cluster: acceptors (the production `Acceptor` over `MemoryAcceptorStore`), proposers
 * (the production `Proposer`) and the network between them, with delay drawn from the region RTT
 * table plus jitter, durable-write time, loss, duplication, reordering (by jitter), partitions,
 * acceptor crash and restart with only its durable state, and proposer crash mid-round.
 */
import { Acceptor } from "../../src/core/acceptor.js";
import { InvariantViolation } from "../../src/core/assert.js";
import { formatBallot } from "../../src/core/ballot.js";
import { canonicalJson } from "../../src/core/canonical-json.js";
import { limits, type CoreLimits } from "../../src/core/limits.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import type { AcceptorReply, AcceptorRequest } from "../../src/core/messages.js";
import { Proposer, type ProposerOptions } from "../../src/core/proposer.js";
import type { QuorumConfig } from "../../src/core/quorum.js";
import type { Sabotage } from "../../src/core/sabotage.js";
import { durable_write_ms, regionRtt_ms, type RegionHint } from "../../src/core/region-rtt.js";
import type { Prng } from "./prng.js";
import type { World } from "./world.js";

export interface NetworkFaults {
  drop_rate: number;
  duplicate_rate: number;
  /** Mean of the exponential jitter added to each one-way delay, as a fraction of it. */
  jitter_fraction_mean: number;
  /** Pairs of node names that cannot talk (both directions). */
  readonly partitioned: Set<string>;
}

export class SimAcceptor {
  readonly store: MemoryAcceptorStore;
  acceptor: Acceptor;
  up = true;
  /** Bumped at every crash: replies of an earlier life are never sent. */
  epoch = 0;
  catchUpInFlight = false;

  constructor(
    readonly name: string,
    readonly region: RegionHint,
    readonly acceptQuorum: number,
    private readonly coreLimits: CoreLimits = limits,
    private readonly sabotage?: Sabotage,
  ) {
    this.store = new MemoryAcceptorStore(coreLimits);
    this.acceptor = this.boot();
  }

  /** A fresh Acceptor over the durable store: what a restarted Durable Object gets. */
  boot(): Acceptor {
    return new Acceptor(this.store, {
      id: this.name,
      acceptQuorum: this.acceptQuorum,
      limits: this.coreLimits,
      ...(this.sabotage === undefined ? {} : { sabotage: this.sabotage }),
    });
  }
}

export class SimProposer {
  proposer: Proposer;
  up = true;
  epoch = 0;
  lives = 0;

  constructor(
    readonly name: string,
    readonly region: RegionHint,
    private readonly make: (id: string) => Proposer,
  ) {
    this.proposer = make(this.nextId());
  }

  private nextId(): string {
    this.lives++;
    return `${this.name}.${this.lives}`;
  }

  /** A crash loses the isolate: its cache, its queue, every round in flight. */
  crash(): void {
    this.up = false;
    this.epoch++;
  }

  restart(): void {
    this.up = true;
    this.proposer = this.make(this.nextId());
  }
}

/** What the observer records to check "at most one value chosen per slot". */
export class ChosenObserver {
  /** slot -> ballot -> value key -> acceptors that accepted it */
  private readonly accepted = new Map<number, Map<string, { value: string; by: Set<string> }>>();
  readonly chosen = new Map<number, string>();
  readonly violations: string[] = [];

  constructor(private readonly quorum: QuorumConfig) {}

  noteAccepted(acceptor: string, request: Extract<AcceptorRequest, { type: "accept" }>): void {
    const ballot = formatBallot(request.ballot);
    for (const { slot, value } of request.slots) {
      const bySlot = this.accepted.get(slot) ?? new Map<string, { value: string; by: Set<string> }>();
      this.accepted.set(slot, bySlot);
      const valueKey = canonicalJson(value);
      const rec = bySlot.get(ballot) ?? { value: valueKey, by: new Set<string>() };
      bySlot.set(ballot, rec);
      if (rec.value !== valueKey) this.violations.push(`ballot ${ballot} proposed two values for slot ${slot}`);
      rec.by.add(acceptor);
      if (rec.by.size >= this.quorum.accept) this.noteChosen(slot, valueKey, `an accept quorum at ballot ${ballot}`);
    }
  }

  noteChosen(slot: number, valueKey: string, how: string): void {
    const before = this.chosen.get(slot);
    if (before === undefined) this.chosen.set(slot, valueKey);
    else if (before !== valueKey) this.violations.push(`slot ${slot}: two different values chosen (the second by ${how})`);
  }
}

export interface ClusterOptions {
  readonly quorum: QuorumConfig;
  readonly acceptorRegions: readonly RegionHint[];
  readonly proposerRegions: readonly RegionHint[];
  readonly proposerOptions?: ProposerOptions;
  /** The limits every proposer and acceptor of the cluster keeps (production's by default). */
  readonly limits?: CoreLimits;
  /** A planted bug, given to every proposer and acceptor (each acts on the modes that concern it). */
  readonly sabotage?: Sabotage;
}

export class Cluster {
  readonly acceptors: SimAcceptor[];
  readonly proposers: SimProposer[];
  readonly observer: ChosenObserver;
  readonly faults: NetworkFaults = { drop_rate: 0, duplicate_rate: 0, jitter_fraction_mean: 0.03, partitioned: new Set() };
  /** Assertion failures raised inside acceptors: each one is a safety violation. */
  readonly acceptorViolations: string[] = [];
  messages_delivered = 0;

  constructor(
    readonly world: World,
    private readonly rng: Prng,
    readonly options: ClusterOptions,
  ) {
    this.observer = new ChosenObserver(options.quorum);
    this.acceptors = options.acceptorRegions.map(
      (r, i) => new SimAcceptor(`a${i}`, r, options.quorum.accept, options.limits, options.sabotage),
    );
    this.proposers = options.proposerRegions.map((r, i) => {
      const sim: SimProposer = new SimProposer(`p${i}`, r, (id) => this.makeProposer(id, () => sim));
      return sim;
    });
  }

  private makeProposer(proposerId: string, self: () => SimProposer): Proposer {
    const acceptorIds = this.acceptors.map((a) => a.name);
    return new Proposer(
      {
        proposerId,
        acceptorIds,
        quorum: this.options.quorum,
        send: (to, request) => this.send(self(), to, request),
        now_ms: () => sim_epoch_ms + Math.floor(this.world.now_ms),
        sleep: (ms) => {
          const p = self();
          const epoch = p.epoch;
          // A crashed proposer's timers never fire: its rounds simply stop.
          return new Promise((resolve) => this.world.schedule(ms, () => p.epoch === epoch && resolve()));
        },
        random: () => this.rng.next(),
      },
      {
        ...this.options.proposerOptions,
        ...(this.options.limits === undefined ? {} : { limits: this.options.limits }),
        ...(this.options.sabotage === undefined ? {} : { sabotage: this.options.sabotage }),
      },
    );
  }

  static linkKey(a: string, b: string): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }

  private oneWay_ms(a: RegionHint, b: RegionHint): number {
    const base = regionRtt_ms(a, b) / 2;
    const jitter = Math.min(0.5, this.rng.exponential(this.faults.jitter_fraction_mean));
    return base * (1 + jitter);
  }

  private linkUp(a: string, b: string): boolean {
    return !this.faults.partitioned.has(Cluster.linkKey(a, b));
  }

  private acceptor(name: string): SimAcceptor {
    const a = this.acceptors.find((x) => x.name === name);
    if (a === undefined) throw new RangeError(`no acceptor ${name}`);
    return a;
  }

  /** Proposer to acceptor and back. A lost message never settles; a refused connection rejects. */
  send(from: SimProposer, to: string, request: AcceptorRequest): Promise<AcceptorReply> {
    const target = this.acceptor(to);
    const epoch = from.epoch;
    return new Promise<AcceptorReply>((resolve, reject) => {
      const copies = this.rng.chance(this.faults.duplicate_rate) ? 2 : 1;
      for (let copy = 0; copy < copies; copy++) {
        if (this.rng.chance(this.faults.drop_rate) || !this.linkUp(from.name, to)) continue;
        const out_ms = this.oneWay_ms(from.region, target.region);
        this.world.schedule(out_ms, () => {
          if (!target.up) {
            // Half the time the platform reports the failure; otherwise it is silence and a timeout.
            if (this.rng.chance(0.5)) this.world.schedule(out_ms, () => from.epoch === epoch && reject(new Error(`${to} is down`)));
            return;
          }
          const reply = this.deliver(target, request);
          if (reply === undefined) return;
          const targetEpoch = target.epoch;
          const back_ms = this.rng.uniform(durable_write_ms.min, durable_write_ms.max) + this.oneWay_ms(target.region, from.region);
          if (this.rng.chance(this.faults.drop_rate)) return;
          this.world.schedule(back_ms, () => {
            if (target.epoch !== targetEpoch || from.epoch !== epoch || !this.linkUp(from.name, to)) return;
            resolve(reply);
          });
        });
      }
    });
  }

  /** Runs one message through an acceptor, as the Durable Object does; copies stand in for serialization. */
  private deliver(target: SimAcceptor, request: AcceptorRequest): AcceptorReply | undefined {
    this.messages_delivered++;
    let reply: AcceptorReply;
    try {
      reply = target.acceptor.handle(structuredClone(request));
    } catch (error) {
      if (!(error instanceof InvariantViolation)) throw error;
      this.acceptorViolations.push(`${target.name}: ${error.message}`);
      return undefined;
    }
    if (request.type === "accept" && reply.type === "accepted") this.observer.noteAccepted(target.name, request);
    this.noteChosenSlots(target);
    if (target.acceptor.needsCatchUp()) this.scheduleCatchUp(target, 0);
    else if (request.type === "accept") this.scheduleCatchUp(target, unchosen_alarm_ms);
    return structuredClone(reply);
  }

  private noteChosenSlots(target: SimAcceptor): void {
    // Every slot an acceptor has applied is chosen: it must agree with every other chosen value.
    const through = target.store.chosenThrough();
    for (let s = through; s > 0; s--) {
      const r = target.store.slot(s);
      if (r === undefined) break;
      const key = canonicalJson(r.value);
      if (this.observer.chosen.get(s) === key) break;
      this.observer.noteChosen(s, key, `${target.name} applying it`);
    }
  }

  /**
   * The acceptor's alarm, as the Durable Object runs it: ask every peer for what it lacks and learn
   * from their replies (chosen slots, and accepted slots that an accept quorum reports at one ballot).
   * It runs at once for a known gap, after `unchosen_alarm_ms` for an accepted slot whose commit has
   * not come, and as a `probe` on restart (a replica that was down converges without new writes).
   */
  scheduleCatchUp(target: SimAcceptor, delay_ms: number, probe = false): void {
    if (target.catchUpInFlight) return;
    target.catchUpInFlight = true;
    const epoch = target.epoch;
    this.world.schedule(delay_ms, () => {
      if (target.epoch !== epoch || !target.up) return;
      const wanted = probe || target.acceptor.needsCatchUp() || target.acceptor.holdsUnchosen();
      if (!wanted) {
        target.catchUpInFlight = false;
        return;
      }
      const before = target.store.chosenThrough();
      const request = target.acceptor.catchUpRequest();
      for (const peer of this.acceptors) {
        if (peer === target || !this.linkUp(target.name, peer.name) || this.rng.chance(this.faults.drop_rate)) continue;
        this.world.schedule(this.oneWay_ms(target.region, peer.region), () => {
          if (!peer.up) return;
          const reply = this.deliver(peer, request);
          if (reply?.type !== "catch_up_reply") return;
          this.world.schedule(this.oneWay_ms(peer.region, target.region), () => {
            if (target.epoch !== epoch || !target.up) return;
            try {
              target.acceptor.learnFromPeer(structuredClone(reply));
            } catch (error) {
              if (!(error instanceof InvariantViolation)) throw error;
              this.acceptorViolations.push(`${target.name} (catch-up): ${error.message}`);
            }
            this.noteChosenSlots(target);
          });
        });
      }
      this.world.schedule(alarm_timeout_ms, () => {
        if (target.epoch !== epoch) return;
        target.catchUpInFlight = false;
        if (!target.up) return;
        if (target.acceptor.needsCatchUp()) this.scheduleCatchUp(target, target.store.chosenThrough() > before ? 0 : alarm_retry_ms);
        else if (target.acceptor.holdsUnchosen()) this.scheduleCatchUp(target, unchosen_alarm_ms);
      });
    });
  }

  crashAcceptor(a: SimAcceptor): void {
    a.up = false;
    a.epoch++;
    a.catchUpInFlight = false;
  }

  restartAcceptor(a: SimAcceptor): void {
    if (a.up) return;
    a.up = true;
    a.acceptor = a.boot(); // only the durable store survives
    this.scheduleCatchUp(a, 0, true);
  }
}

/** Virtual time 0 on the proposers' wall clock (2026-11-26T00:00:00Z). */
export const sim_epoch_ms = Date.UTC(2026, 10, 26);
const alarm_timeout_ms = 1000;
const alarm_retry_ms = 100;
const unchosen_alarm_ms = 1000;
