/**
 * A simulated cluster: acceptors (the production `Acceptor` over `MemoryAcceptorStore`), proposers
 * (the production `Proposer`) and the network between them, with delay drawn from the region RTT
 * table plus jitter, durable-write time, loss, duplication, reordering (by jitter), partitions,
 * acceptor crash and restart with only its durable state, and proposer crash mid-round.
 */
import { Acceptor } from "../../src/core/acceptor.js";
import { InvariantViolation } from "../../src/core/assert.js";
import { type Ballot, ballotsEqual, formatBallot } from "../../src/core/ballot.js";
import { canonicalJson } from "../../src/core/canonical-json.js";
import type { EntryInput } from "../../src/core/entry-schema.js";
import type { BatchOutcome } from "../../src/core/ledger-types.js";
import { anti_entropy, type CoreLimits, limits } from "../../src/core/limits.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import type {
  AcceptorReply,
  AcceptorRequest,
  CatchUpReply,
  CommitItem,
  PromiseReply,
} from "../../src/core/messages.js";
import { Proposer, type ProposerOptions } from "../../src/core/proposer/index.js";
import type { RequestOptions } from "../../src/core/proposer/types.js";
import type { QuorumConfig } from "../../src/core/quorum.js";
import { durable_write_ms, type RegionHint, regionRtt_ms } from "../../src/core/region-rtt.js";
import type { Sabotage } from "../../src/core/sabotage.js";
import type { SimCoordinator } from "./coordinator.js";
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
  /** When the alarm is set to fire (the Durable Object's `alarmAt_ms`); undefined when none is set. */
  alarmAt_ms: number | undefined;
  /** Bumped whenever the alarm is set again or the acceptor crashes: an older alarm event does nothing. */
  alarmGeneration = 0;
  /** True while the alarm handler runs (the platform runs one at a time). */
  alarmRunning = false;
  /** An alarm came due while the handler ran: it runs again when that one ends. */
  alarmDueWhileRunning = false;

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

/**
 * How a Worker isolate serves a request when it does not propose itself: the coordinator design
 * (`coordinator.ts`) forwards it. Without a route the isolate's own proposer serves it (today's design).
 */
export interface WorkerRoute {
  append(worker: SimProposer, entries: readonly EntryInput[], options: RequestOptions): Promise<BatchOutcome>;
  sync(worker: SimProposer, options: RequestOptions): Promise<void>;
}

export class SimProposer {
  proposer: Proposer;
  up = true;
  /** Set when the cluster has a coordinator: this isolate forwards instead of proposing. */
  route: WorkerRoute | undefined;
  /** Told at every crash (the coordinator's node: the forwards it held are lost with it). */
  onCrash: (() => void) | undefined;
  epoch = 0;
  lives = 0;
  /** This proposer's clock: the virtual time plus this offset (skewed clocks), ... */
  clockOffset_ms = 0;
  /** ... read in ticks of this size (a coarse clock: proposers that start a phase 1 in one tick tie on the round). */
  clockTick_ms = 1;

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
    this.onCrash?.();
  }

  /** One append as this isolate's Worker serves it: forwarded when it has a route, else proposed here. */
  append(entries: readonly EntryInput[], options: RequestOptions = {}): Promise<BatchOutcome> {
    return this.route === undefined
      ? this.proposer.append(entries, undefined, options)
      : this.route.append(this, entries, options);
  }

  /** A read's recovery as this isolate's Worker runs it: forwarded when it has a route. */
  sync(options: RequestOptions = {}): Promise<void> {
    return this.route === undefined ? this.proposer.sync(undefined, options) : this.route.sync(this, options);
  }

  restart(): void {
    this.up = true;
    this.addStats(this.pastLivesStats, this.proposer.stats);
    this.proposer = this.make(this.nextId());
  }

  /**
   * A new life that starts while the old one still runs (a Durable Object replaced elsewhere while
   * an event of the old instance, which never touches storage, goes on: the platform's "known
   * issues"). The old proposer keeps its timers and its sends and finishes what it holds; it gets
   * nothing new. A crash of this node still ends both.
   */
  replace(): void {
    this.replacedLives.push(this.proposer);
    this.proposer = this.make(this.nextId());
  }

  /** Lives replaced while still running (`replace`): they may go on counting. */
  private readonly replacedLives: Proposer[] = [];

  /** The counters of every life of this proposer so far (a restart starts a fresh `Proposer`). */
  private readonly pastLivesStats: Record<string, number> = {};

  statsOfAllLives(): Record<string, number> {
    const total = { ...this.pastLivesStats };
    this.addStats(total, this.proposer.stats);
    for (const old of this.replacedLives) this.addStats(total, old.stats);
    return total;
  }

  private addStats(into: Record<string, number>, stats: Proposer["stats"]): void {
    for (const [k, v] of Object.entries(stats)) into[k] = (into[k] ?? 0) + v;
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
    else if (before !== valueKey)
      this.violations.push(`slot ${slot}: two different values chosen (the second by ${how})`);
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

/** The network's jitter unless a scenario sets its own: exponential, this mean fraction of the one-way delay. */
export const default_jitter_fraction_mean = 0.03;
/** Jitter never adds more than this fraction of the one-way delay. */
export const jitter_fraction_max = 0.5;

export class Cluster {
  readonly acceptors: SimAcceptor[];
  readonly proposers: SimProposer[];
  readonly observer: ChosenObserver;
  readonly faults: NetworkFaults = {
    drop_rate: 0,
    duplicate_rate: 0,
    jitter_fraction_mean: default_jitter_fraction_mean,
    partitioned: new Set(),
  };
  /** Assertion failures raised inside acceptors: each one is a safety violation. */
  readonly acceptorViolations: string[] = [];
  /** Assertion failures a proposer's request raised where the simulator sees them (the coordinator's). */
  readonly proposerViolations: string[] = [];
  messages_delivered = 0;
  /** Aimed faults the scenario arms (see `aimed-faults.ts`); all off by default. */
  readonly aims: ClusterAims = {
    crashAfterPromise: 0,
    crashAfterAccepted: 0,
    crashDown_ms: { min: 1, max: 60 },
    crashAfterReplyChance: 0.3,
    leaderCuts: 0,
    onLeaderCut: undefined,
    commitLossesOnce: false,
    commitBlackout: undefined,
    crashPromisesTo: undefined,
  };
  /** The ballot of the last aimed crash after a Promise: the other acceptors that promise it crash too. */
  private crashedAfterPromiseOf: Ballot | undefined;
  /** (acceptor, slot) pairs whose Commit was already lost once by the aimed loss: never lost twice. */
  private readonly commitLostOnce = new Set<string>();
  /** Counts of what the run exercised: the paths that tiny limits and aimed faults exist to reach. */
  readonly counters = {
    truncated_promises: 0,
    re_prepares: 0,
    full_catch_up_pages: 0,
    apply_limit_hits: 0,
    aimed_crashes_after_promise: 0,
    aimed_crashes_after_accepted: 0,
    aimed_leader_cuts: 0,
    aimed_commit_losses: 0,
    blacked_out_commits: 0,
    alarms_run: 0,
    /** Requests a proposer refused with a full queue (429), counted by the clients. */
    overloaded_429: 0,
    /** Isolates evicted for good (`retireProposer`): the contention mix's cold joiners. */
    proposers_retired: 0,
    /** The coordinator design (`coordinator.ts`): calls Workers made to it, its resets, and the broken variant's fallbacks. */
    coordinator_forwards: 0,
    coordinator_resets: 0,
    /** Resets whose old instance went on with what it held beside the new one (`SimProposer.replace`). */
    coordinator_overlapping_lives: 0,
    forward_fallbacks: 0,
    /** Messages to acceptors from Workers that forward (`route` set): none, unless the broken fallback. */
    forwarding_worker_sends: 0,
  };
  /** Per acceptor and ballot, the highest `fromSlot` prepared: a higher one at the same ballot is a re-prepare. */
  private readonly preparedFrom = new Map<string, number>();
  /** `acceptor|slot` for every commit item a proposer's message delivered (a Commit's, or one carried by an Accept). */
  readonly committedTo = new Set<string>();
  /** Slots some proposer sent a commit item for: it learned them chosen, so it owes them to every acceptor. */
  readonly commitSentFor = new Set<number>();
  /** Virtual time each slot was first seen chosen (accept quorum or a replica applying it). */
  readonly chosenAt_ms = new Map<number, number>();

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

  /**
   * Proposers that left for good (`retireProposer`): out of `proposers`, so no client, fault or heal
   * reaches them again; their counters still count in `proposerStats`.
   */
  readonly retiredProposers: SimProposer[] = [];

  /**
   * A proposer that joins mid-run, as a cold isolate does: a name no proposer had before (so a new
   * proposerId), no ballot, no cache. It is up at once and takes requests like the others.
   */
  addProposer(region: RegionHint): SimProposer {
    const name = `p${this.proposers.length + this.retiredProposers.length}`;
    const sim: SimProposer = new SimProposer(name, region, (id) => this.makeProposer(id, () => sim));
    sim.route = this.route;
    this.proposers.push(sim);
    return sim;
  }

  /** Proposers outside `proposers` (no client picks them): the coordinator's Durable Object. */
  readonly nodes: SimProposer[] = [];
  /** Where every Worker sends its requests, once set (`setRoute`): the coordinator design. */
  private route: WorkerRoute | undefined;
  /** The ledger's coordinator, when the run has one (`useCoordinator`). */
  coordinator: SimCoordinator | undefined;

  /**
   * A proposer that is not a Worker isolate: no client, fault plan or heal of `proposers` reaches it.
   * `options` add to the cluster's proposer options (the coordinator's Durable Object runs its own).
   */
  addNode(name: string, region: RegionHint, options: ProposerOptions = {}): SimProposer {
    const sim: SimProposer = new SimProposer(name, region, (id) => this.makeProposer(id, () => sim, options));
    this.nodes.push(sim);
    return sim;
  }

  /** From now on every Worker, present and joining, serves its requests through `route`. */
  setRoute(route: WorkerRoute): void {
    this.route = route;
    for (const p of [...this.proposers, ...this.retiredProposers]) p.route = route;
  }

  /**
   * An isolate evicted for good: it crashes (every round it had in flight stops where it is) and
   * leaves `proposers`, so it never restarts; a request it held is retried elsewhere by its client.
   */
  retireProposer(p: SimProposer): void {
    if (p.up) p.crash();
    this.counters.proposers_retired++;
    const at = this.proposers.indexOf(p);
    if (at >= 0) this.proposers.splice(at, 1);
    this.retiredProposers.push(p);
  }

  private makeProposer(proposerId: string, self: () => SimProposer, options: ProposerOptions = {}): Proposer {
    const acceptorIds = this.acceptors.map((a) => a.name);
    return new Proposer(
      {
        proposerId,
        acceptorIds,
        quorum: this.options.quorum,
        send: (to, request) => this.send(self(), to, request),
        now_ms: () => {
          const p = self();
          const local_ms = this.world.now_ms + p.clockOffset_ms;
          return sim_epoch_ms + Math.floor(local_ms / p.clockTick_ms) * p.clockTick_ms;
        },
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
        ...options,
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
    const jitter = Math.min(jitter_fraction_max, this.rng.exponential(this.faults.jitter_fraction_mean));
    return base * (1 + jitter);
  }

  linkUp(a: string, b: string): boolean {
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
    // A crashed isolate sends nothing more (an aimed leader cut crashes it in the middle of a send loop).
    if (!from.up) return new Promise<AcceptorReply>(() => {});
    if (from.route !== undefined) this.counters.forwarding_worker_sends++;
    if (request.type === "commit" || request.type === "accept")
      for (const c of request.commits) this.commitSentFor.add(c.slot);
    if (request.type === "accept" && this.aims.leaderCuts > 0 && this.aims.onLeaderCut !== undefined) {
      // Aimed: the leader dies mid-phase-2, after this one Accept left: only a minority may accept it.
      this.aims.leaderCuts--;
      this.counters.aimed_leader_cuts++;
      const onCut = this.aims.onLeaderCut;
      from.crash(); // the sends after this one in the same loop find it down
      queueMicrotask(() => onCut(from));
    }
    const blackout = this.aims.commitBlackout !== undefined && this.aims.commitBlackout !== to;
    if (blackout && request.type === "commit") {
      this.counters.blacked_out_commits++;
      return new Promise<AcceptorReply>(() => {});
    }
    if (blackout && request.type === "accept" && request.commits.length > 0) {
      // As if every leader died right after its quorum accepted: the commits never leave.
      this.counters.blacked_out_commits++;
      request = { ...request, commits: [] };
    }
    const lostOnce =
      request.type === "commit" && this.aims.commitLossesOnce && this.loseCommitOnce(to, request.commits);
    return new Promise<AcceptorReply>((resolve, reject) => {
      const copies = this.rng.chance(this.faults.duplicate_rate) ? 2 : 1;
      for (let copy = 0; copy < copies; copy++) {
        if (lostOnce || this.rng.chance(this.faults.drop_rate) || !this.linkUp(from.name, to)) continue;
        const out_ms = this.oneWay_ms(from.region, target.region);
        this.world.schedule(out_ms, () => {
          if (!target.up) {
            // Half the time the platform reports the failure; otherwise it is silence and a timeout.
            if (this.rng.chance(0.5))
              this.world.schedule(out_ms, () => from.epoch === epoch && reject(new Error(`${to} is down`)));
            return;
          }
          const reply = this.deliver(target, request);
          if (reply === undefined) return;
          const targetEpoch = target.epoch;
          const write_ms = this.rng.uniform(durable_write_ms.min, durable_write_ms.max);
          const back_ms = this.oneWay_ms(target.region, from.region);
          const dropped = this.rng.chance(this.faults.drop_rate);
          // The reply leaves once the write is durable (the output gate); a crash before then loses it.
          this.world.schedule(write_ms, () => {
            if (target.epoch !== targetEpoch || dropped) return;
            this.world.schedule(back_ms, () => {
              if (from.epoch !== epoch || !this.linkUp(from.name, to)) return;
              resolve(reply);
            });
          });
          this.maybeCrashAfterReply(target, reply, write_ms);
        });
      }
    });
  }

  /**
   * A read-only call from a proposer's isolate to one acceptor (the read path's states and reads),
   * over the same network as `send`: delay and jitter, loss, partitions, a down acceptor; nothing is
   * written, so no durable-write time on the way back. `rng` draws its loss and jitter: the readers
   * pass their own, so that reads do not shift the rest of a seed's randomness. A lost message never
   * settles; a refused connection rejects.
   */
  call<T>(from: SimProposer, to: string, op: (acceptor: SimAcceptor) => T, rng: Prng = this.rng): Promise<T> {
    const target = this.acceptor(to);
    const epoch = from.epoch;
    const oneWay_ms = (a: RegionHint, b: RegionHint) =>
      (regionRtt_ms(a, b) / 2) * (1 + Math.min(jitter_fraction_max, rng.exponential(this.faults.jitter_fraction_mean)));
    return new Promise<T>((resolve, reject) => {
      if (!from.up || rng.chance(this.faults.drop_rate) || !this.linkUp(from.name, to)) return;
      const out_ms = oneWay_ms(from.region, target.region);
      this.world.schedule(out_ms, () => {
        if (!target.up) {
          // As for `send`: half the time the platform reports the failure, otherwise silence.
          if (rng.chance(0.5))
            this.world.schedule(out_ms, () => from.epoch === epoch && reject(new Error(`${to} is down`)));
          return;
        }
        const reply = structuredClone(op(target)); // a copy stands in for serialization
        if (rng.chance(this.faults.drop_rate)) return;
        const targetEpoch = target.epoch;
        this.world.schedule(oneWay_ms(target.region, from.region), () => {
          if (target.epoch !== targetEpoch || from.epoch !== epoch || !this.linkUp(from.name, to)) return;
          resolve(reply);
        });
      });
    });
  }

  /** Runs one message through an acceptor, as the Durable Object does; copies stand in for serialization. */
  private deliver(target: SimAcceptor, request: AcceptorRequest): AcceptorReply | undefined {
    this.messages_delivered++;
    if (request.type === "commit" || request.type === "accept")
      for (const c of request.commits) this.committedTo.add(`${target.name}|${c.slot}`);
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
    this.countLimitPaths(target, request, reply);
    // The Durable Object's rules (`LedgerAcceptor.handle`), with its timings.
    if (target.acceptor.needsCatchUp()) this.armAlarm(target, 0);
    else if (request.type === "accept" && target.acceptor.holdsUnchosen())
      this.armAlarm(target, anti_entropy.unchosen_alarm_ms);
    else if (request.type !== "catch_up") this.armAlarm(target, anti_entropy.idle_probe_ms);
    return structuredClone(reply);
  }

  /** The proposers' counters over all their lives, summed (`Proposer.stats`). */
  proposerStats(): Record<string, number> {
    const total: Record<string, number> = {};
    for (const p of [...this.proposers, ...this.retiredProposers, ...this.nodes])
      for (const [k, v] of Object.entries(p.statsOfAllLives())) total[k] = (total[k] ?? 0) + v;
    return total;
  }

  /** Counts the paths behind the limits: truncated listings, re-prepares, full catch-up pages, the apply limit. */
  private countLimitPaths(target: SimAcceptor, request: AcceptorRequest, reply: AcceptorReply): void {
    const lim = this.options.limits ?? limits;
    if (request.type === "prepare") {
      const key = `${target.name}|${formatBallot(request.ballot)}`;
      const before = this.preparedFrom.get(key);
      if (before !== undefined && request.fromSlot > before) this.counters.re_prepares++;
      this.preparedFrom.set(key, Math.max(before ?? 0, request.fromSlot));
      if (reply.type === "promise" && reply.truncated) this.counters.truncated_promises++;
    } else if (request.type === "catch_up" && reply.type === "catch_up_reply") {
      if (reply.chosen.length === lim.catch_up_slots_max) this.counters.full_catch_up_pages++;
    }
    // A chosen slot right after the applied prefix left for a later message: the apply limit held.
    if (target.store.slot(target.store.chosenThrough() + 1)?.chosen) this.counters.apply_limit_hits++;
  }

  /**
   * Aimed: the acceptor crashes right after a Promise or an Accepted left it (the reply is on its
   * way; the crash loses only what was in memory), and restarts a moment later.
   */
  private maybeCrashAfterReply(target: SimAcceptor, reply: AcceptorReply, after_ms: number): void {
    const aims = this.aims;
    // Every acceptor that promises the ballot of an aimed crash crashes too (a correlated restart, as
    // a deploy or an eviction wave gives): those promises reached the proposer and then were lost.
    const sameBallot =
      reply.type === "promise" &&
      ((this.crashedAfterPromiseOf !== undefined && ballotsEqual(reply.ballot, this.crashedAfterPromiseOf)) ||
        (aims.crashPromisesTo !== undefined && reply.ballot.proposerId.startsWith(`${aims.crashPromisesTo}.`)));
    const afterPromise = reply.type === "promise" && aims.crashAfterPromise > 0;
    const afterAccepted = reply.type === "accepted" && aims.crashAfterAccepted > 0;
    if (!sameBallot && (!(afterPromise || afterAccepted) || !this.rng.chance(aims.crashAfterReplyChance))) return;
    if (sameBallot) {
      this.counters.aimed_crashes_after_promise++;
    } else if (afterPromise) {
      aims.crashAfterPromise--;
      this.counters.aimed_crashes_after_promise++;
      this.crashedAfterPromiseOf = (reply as PromiseReply).ballot;
    } else {
      aims.crashAfterAccepted--;
      this.counters.aimed_crashes_after_accepted++;
    }
    const down_ms = this.rng.uniform(aims.crashDown_ms.min, aims.crashDown_ms.max);
    this.world.schedule(after_ms, () => {
      if (!target.up) return;
      this.crashAcceptor(target);
      this.world.schedule(down_ms, () => this.restartAcceptor(target));
    });
  }

  /**
   * Aimed loss of Commit messages: the first Commit that names a slot to an acceptor is lost; a
   * resend of it gets through. So a proposer that owes lost commits again is told nothing is missing.
   */
  private loseCommitOnce(to: string, commits: readonly CommitItem[]): boolean {
    const fresh = commits.filter((c) => !this.commitLostOnce.has(`${to}|${c.slot}`));
    if (fresh.length === 0 || fresh.length < commits.length) return false;
    for (const c of commits) this.commitLostOnce.add(`${to}|${c.slot}`);
    this.counters.aimed_commit_losses++;
    return true;
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
    for (const slot of this.observer.chosen.keys())
      if (!this.chosenAt_ms.has(slot)) this.chosenAt_ms.set(slot, this.world.now_ms);
  }

  /** `LedgerAcceptor.armAlarm`: sets the alarm unless one is already set at or before that time. */
  armAlarm(target: SimAcceptor, delay_ms: number): void {
    const at_ms = this.world.now_ms + delay_ms;
    if (target.alarmAt_ms !== undefined && target.alarmAt_ms <= at_ms) return;
    target.alarmAt_ms = at_ms;
    const generation = ++target.alarmGeneration;
    this.world.schedule(delay_ms, () => {
      if (target.alarmGeneration !== generation || !target.up) return;
      if (target.alarmRunning) {
        target.alarmDueWhileRunning = true;
        return;
      }
      void this.runAlarm(target);
    });
  }

  /**
   * `LedgerAcceptor.alarm`, as the Durable Object runs it: up to `catch_up_rounds_per_alarm_max`
   * rounds that ask every peer for what this acceptor lacks and learn from their replies (chosen
   * slots, and accepted slots that an accept quorum reports at one ballot); then it arms itself
   * again on the same triggers, with the same timings (`anti_entropy`).
   */
  private async runAlarm(target: SimAcceptor): Promise<void> {
    const epoch = target.epoch;
    target.alarmAt_ms = undefined;
    target.alarmRunning = true;
    this.counters.alarms_run++;
    const peers = this.acceptors.filter((p) => p !== target);
    let reachedPeers = 0;
    for (let round = 0; round < anti_entropy.catch_up_rounds_per_alarm_max; round++) {
      const before = target.store.chosenThrough();
      const request = target.acceptor.catchUpRequest();
      const replies = await Promise.all(peers.map((peer) => this.catchUpCall(target, peer, request)));
      if (target.epoch !== epoch) return; // crashed mid-alarm: the restart arms a new one
      reachedPeers = 0;
      for (const reply of replies) {
        if (reply === undefined) continue;
        reachedPeers++;
        try {
          target.acceptor.learnFromPeer(reply);
        } catch (error) {
          if (!(error instanceof InvariantViolation)) throw error;
          this.acceptorViolations.push(`${target.name} (catch-up): ${error.message}`);
        }
        this.noteChosenSlots(target);
      }
      if (!target.acceptor.needsCatchUp() || target.store.chosenThrough() === before) break;
    }
    target.alarmRunning = false;
    if (target.acceptor.needsCatchUp()) this.armAlarm(target, anti_entropy.gap_retry_ms);
    else if (target.acceptor.holdsUnchosen()) this.armAlarm(target, anti_entropy.unchosen_alarm_ms);
    else if (reachedPeers === 0 && peers.length > 0) this.armAlarm(target, anti_entropy.unreachable_retry_ms);
    if (target.alarmDueWhileRunning) {
      // The platform runs an alarm that came due during the handler once the handler has ended.
      target.alarmDueWhileRunning = false;
      this.world.schedule(0, () => {
        if (target.epoch === epoch && target.up && !target.alarmRunning) void this.runAlarm(target);
      });
    }
  }

  /**
   * One catch-up call to a peer (a Durable Object RPC): its reply, or undefined when the message or
   * its reply is lost, a link is cut or the peer is down; the RPC then fails after `peer_call_failure_ms`.
   */
  private catchUpCall(
    target: SimAcceptor,
    peer: SimAcceptor,
    request: AcceptorRequest,
  ): Promise<CatchUpReply | undefined> {
    return new Promise((resolve) => {
      this.world.schedule(peer_call_failure_ms, () => resolve(undefined));
      if (!this.linkUp(target.name, peer.name) || this.rng.chance(this.faults.drop_rate)) return;
      this.world.schedule(this.oneWay_ms(target.region, peer.region), () => {
        if (!peer.up) return;
        const reply = this.deliver(peer, request);
        if (reply?.type !== "catch_up_reply") return;
        this.world.schedule(this.oneWay_ms(peer.region, target.region), () => {
          if (this.linkUp(target.name, peer.name)) resolve(reply);
        });
      });
    });
  }

  crashAcceptor(a: SimAcceptor): void {
    a.up = false;
    a.epoch++;
    a.alarmGeneration++;
    a.alarmAt_ms = undefined;
    a.alarmRunning = false;
    a.alarmDueWhileRunning = false;
  }

  /** The Durable Object's constructor: only the durable store survives, and it asks its peers soon. */
  restartAcceptor(a: SimAcceptor): void {
    if (a.up) return;
    a.up = true;
    a.acceptor = a.boot();
    this.armAlarm(a, anti_entropy.restart_probe_ms);
  }
}

/** Aimed faults (counts are budgets, used up as they fire). */
export interface ClusterAims {
  /** Acceptor crashes right after a Promise leaves it, and right after an Accepted does. */
  crashAfterPromise: number;
  crashAfterAccepted: number;
  /** Every acceptor that promises this proposer's ballot crashes right after (a recovery whose promises are lost). */
  crashPromisesTo: string | undefined;
  /** How long such a crashed acceptor stays down, and the chance that a given reply triggers one. */
  crashDown_ms: { min: number; max: number };
  crashAfterReplyChance: number;
  /** Leaders that die mid-phase-2 (one Accept sent); `onLeaderCut` then starts contending recoveries. */
  leaderCuts: number;
  onLeaderCut: ((cut: SimProposer) => void) | undefined;
  /** Every Commit that first names a slot to an acceptor is lost (a resend is not). */
  commitLossesOnce: boolean;
  /**
   * While set, no commit reaches an acceptor but the one named (Commits are lost, Accepts arrive
   * without theirs): the others pile up accepted slots they do not know chosen, while the named one
   * applies them and predicts outcomes, so commits go on. When it then fails, the next phase 1 finds
   * Promise listings longer than `promise_slots_max`.
   */
  commitBlackout: string | undefined;
}

/** Virtual time 0 on the proposers' wall clock (2026-11-26T00:00:00Z). */
export const sim_epoch_ms = Date.UTC(2026, 10, 26);
/**
 * A Durable Object RPC to a peer that is down, cut off, or whose message was lost fails after this
 * (the simulator's model of a failed call; the platform gives no exact figure).
 */
const peer_call_failure_ms = 1000;
