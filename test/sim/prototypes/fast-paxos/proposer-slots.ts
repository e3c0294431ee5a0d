/**
 * What a Fast Paxos proposer keeps per slot: what it knows of a slot it has not learnt, the state of
 * its own value there and of its recovery, and the rule that says a slot needs a classic round.
 * Apart from the proposer's class to keep that file short; nothing else uses them.
 */
import { fast_ballot, type Value, type Vote } from "./values.js";

/** What a proposer knows of one slot it has not learnt yet. */
export interface SlotKnowledge {
  /** Per acceptor, its votes by ballot. */
  readonly votes: Map<number, Map<number, Value>>;
  /** Acceptors known not to vote at the fast ballot any more (refused with no fast vote, or voted at a classic one). */
  readonly noFastVote: Set<number>;
  highestBallot: number;
  /** This proposer, as the slot's round-1 coordinator, sent its phase 2. */
  coordinated: boolean;
  /** Fast values refused by an acceptor, forwarded to this proposer as the slot's coordinator. */
  readonly late: Value[];
}

export interface Recovery {
  readonly ballot: number;
  readonly promises: Map<number, Vote | undefined>;
  phase: 1 | 2 | "refused";
}

export interface OwnSlot {
  readonly value: Value;
  /** The requests went back to the queue already (the sabotage only). */
  abandoned: boolean;
  stuck: boolean;
  recovery?: Recovery;
  attempts: number;
  /** Bumped by each timer armed, so a stale timer does nothing. */
  timer: number;
}

/** Stuck: no value can still reach the fast quorum at ballot 0, so a classic round must decide the slot. */
export function isStuck(k: SlotKnowledge, acceptors: number, fastQuorum: number): boolean {
  const counts = new Map<string, number>();
  let fastVoters = 0;
  for (const votes of k.votes.values()) {
    const v = votes.get(fast_ballot);
    if (v === undefined) continue;
    fastVoters++;
    counts.set(v.id, (counts.get(v.id) ?? 0) + 1);
  }
  const undecided = acceptors - fastVoters - k.noFastVote.size;
  const best = Math.max(0, ...counts.values());
  return best + undecided < fastQuorum;
}
