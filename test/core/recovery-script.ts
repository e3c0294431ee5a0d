/**
 * A small script language for the proposer's recovery tests, in the spirit of etcd's data-driven
 * interaction tests: the acceptors' states are written in by hand, every message between the
 * proposer and the acceptors is recorded as one line of text, and a test compares the whole
 * transcript with the lines it expects. Not a test file: it registers nothing.
 *
 * Notation (one line per message; consecutive identical messages to or from several acceptors share a line):
 *   p -> a,b,c: prepare t0.p from 1          the proposer sends; `t0` is the round at the cluster's
 *                                            clock origin (`epoch_ms`), `t250` 250 ms later
 *   b -> p: promise t0.p through 0 {1@2.y:[high]} truncated
 *                                            acceptor b promises; it holds slot 1 accepted at ballot
 *                                            2.y (a small round: an earlier leader's) with value [high]
 *   p -> a: accept t0.p {1:[high] 2:[mine]} commits {1@t0.p}
 *   a -> p: accepted t0.p {1,2} through 0
 *   c -> p: reject promised t999.z
 *   p -> a: commit {1@t0.p 2@t0.p=[mine]}    a commit item names the slot and the ballot that chose
 *                                            it, and its value where the acceptor may lack it
 *   a -> p: committed through 2
 * Values: `[x1]` is an append of one request holding trade `x1` (`[x1,x2|y1]`: two requests);
 * `noop` is the no-op that recovery writes into a hole.
 */
import { expect } from "vitest";
import type { SlotRecord } from "../../src/core/acceptor-store.js";
import type { Ballot } from "../../src/core/ballot.js";
import type { AcceptorReply, AcceptorRequest, CommitItem } from "../../src/core/messages.js";
import { noop_value, type SlotValue } from "../../src/core/slot-value.js";
import { appendValue, trade } from "./fixtures.js";
import { epoch_ms, type ProposerCluster } from "./proposer-cluster.js";

/** The ballot of an earlier leader (a crashed one): a small round, below every ballot the proposer under test picks. */
export const earlier = (round: number, proposerId: string): Ballot => ({ round, proposerId });

/** The ballot of another proposer that is `ahead_ms` ahead of the cluster's clock origin. */
export const ahead = (ahead_ms: number, proposerId: string): Ballot => ({ round: epoch_ms + ahead_ms, proposerId });

/** A slot's value in a hand-built state: `"noop"`, or the ids of one request's trades. */
export type ValueSpec = "noop" | readonly string[];

export function slotValueOf(spec: ValueSpec): SlotValue {
  if (spec === "noop") return noop_value;
  const trades = spec.map((id) => trade(id));
  return appendValue(epoch_ms, trades);
}

/** What one acceptor holds before the proposer under test starts. */
export interface AcceptorState {
  /** Accepted (not chosen) slots, each group at its ballot, written in this order. */
  readonly accepted?: ReadonlyArray<{ readonly ballot: Ballot; readonly slots: Readonly<Record<number, ValueSpec>> }>;
  /** A promise made after the accepts (a proposer that prepared and has not yet sent an Accept). */
  readonly promised?: Ballot;
}

/**
 * Writes hand-built states into the acceptors, through their own message handler (a prepare, then
 * an Accept without commits, per group), as the earlier leaders would have left them.
 */
export function holdStates(c: ProposerCluster, states: Readonly<Record<string, AcceptorState>>): void {
  for (const [id, state] of Object.entries(states)) {
    const acceptor = c.acceptors[id];
    expect(acceptor, `acceptor ${id} exists`).toBeDefined();
    for (const { ballot, slots } of state.accepted ?? []) {
      expect(acceptor!.handle({ type: "prepare", ballot, fromSlot: 1 }).type).toBe("promise");
      const accept = Object.entries(slots).map(([slot, spec]) => ({ slot: Number(slot), value: slotValueOf(spec) }));
      expect(acceptor!.handle({ type: "accept", ballot, slots: accept, commits: [] }).type).toBe("accepted");
    }
    if (state.promised !== undefined) {
      expect(acceptor!.handle({ type: "prepare", ballot: state.promised, fromSlot: 1 }).type).toBe("promise");
    }
  }
}

export function formatScriptBallot(b: Ballot): string {
  return b.round >= epoch_ms ? `t${b.round - epoch_ms}.${b.proposerId}` : `${b.round}.${b.proposerId}`;
}

export function formatScriptValue(v: SlotValue): string {
  return v.kind === "noop" ? "noop" : `[${v.batches.map((batch) => batch.map((e) => e.id).join(",")).join("|")}]`;
}

const formatCommitItem = (c: CommitItem): string =>
  `${c.slot}@${formatScriptBallot(c.ballot)}${c.value === undefined ? "" : `=${formatScriptValue(c.value)}`}`;

export function formatRequest(r: AcceptorRequest): string {
  switch (r.type) {
    case "prepare":
      return `prepare ${formatScriptBallot(r.ballot)} from ${r.fromSlot}`;
    case "accept": {
      const slots = r.slots.map((s) => `${s.slot}:${formatScriptValue(s.value)}`).join(" ");
      const commits = r.commits.length === 0 ? "" : ` commits {${r.commits.map(formatCommitItem).join(" ")}}`;
      return `accept ${formatScriptBallot(r.ballot)} {${slots}}${commits}`;
    }
    case "commit":
      return `commit {${r.commits.map(formatCommitItem).join(" ")}}${r.outcomeOf === undefined ? "" : ` outcome of ${r.outcomeOf}`}`;
    case "catch_up":
      return `catch_up from ${r.fromSlot}`;
  }
}

export function formatReply(r: AcceptorReply): string {
  switch (r.type) {
    case "promise": {
      const held = r.accepted
        .map((a) => `${a.slot}@${formatScriptBallot(a.ballot)}:${formatScriptValue(a.value)}`)
        .join(" ");
      return `promise ${formatScriptBallot(r.ballot)} through ${r.chosenThrough} {${held}}${r.truncated ? " truncated" : ""}`;
    }
    case "accepted":
      return `accepted ${formatScriptBallot(r.ballot)} {${r.slots.join(",")}} through ${r.chosenThrough}`;
    case "reject":
      return `reject promised ${formatScriptBallot(r.promised)}`;
    case "committed":
      return `committed through ${r.chosenThrough}${r.outcome === undefined ? "" : ` outcome of ${r.outcome.slot}`}`;
    case "catch_up_reply":
      return `catch_up_reply through ${r.chosenThrough}`;
  }
}

interface Line {
  /** "send": from the proposer to `who`; "reply": from `who` to the proposer. */
  readonly direction: "send" | "reply";
  readonly who: string;
  readonly text: string;
}

/**
 * Records every message from now on, and every reply or failed call, as transcript lines. It wraps
 * the transport of the env object the Proposer holds, as a network tap would: the request still
 * goes through the cluster's routing, the reply back unchanged.
 */
export function recordTranscript(c: ProposerCluster) {
  const lines: Line[] = [];
  const send = c.env.send.bind(c.env);
  (c.env as { send: typeof c.env.send }).send = (to, request) => {
    lines.push({ direction: "send", who: to, text: formatRequest(request) });
    const reply = send(to, request);
    // Attached before the proposer's own handlers, so a reply's line comes before what it causes.
    reply.then(
      (r) => lines.push({ direction: "reply", who: to, text: formatReply(r) }),
      (error: unknown) =>
        lines.push({
          direction: "reply",
          who: to,
          text: `failed: ${error instanceof Error ? error.message : String(error)}`,
        }),
    );
    return reply;
  };
  return {
    /** The transcript so far, consecutive identical messages merged into one line. */
    lines(): string[] {
      const merged: Array<{ direction: Line["direction"]; who: string[]; text: string }> = [];
      for (const line of lines) {
        const last = merged.at(-1);
        // Merged: the same message to (or from) several acceptors; a repeat to the same one stays a line of its own.
        if (
          last !== undefined &&
          last.direction === line.direction &&
          last.text === line.text &&
          !last.who.includes(line.who)
        ) {
          last.who.push(line.who);
        } else merged.push({ direction: line.direction, who: [line.who], text: line.text });
      }
      return merged.map((m) =>
        m.direction === "send" ? `p -> ${m.who.join(",")}: ${m.text}` : `${m.who.join(",")} -> p: ${m.text}`,
      );
    },
  };
}

/** Slot records above this many are not expected in a scripted test. */
const log_slots_max = 1000;

const formatRecord = (r: SlotRecord): string =>
  `${r.slot}${r.chosen ? "=" : "~"}${formatScriptValue(r.value)}@${formatScriptBallot(r.ballot)}`;

/**
 * What one acceptor holds, slot by slot: `2=[x1]@t0.p` chosen at that ballot, `3~[y]@1.x` only
 * accepted there; then its chosenThrough.
 */
export function acceptorLog(c: ProposerCluster, id: string): string {
  const store = c.acceptors[id]!.store;
  const held = store.slotsAbove(0, log_slots_max);
  expect(held.length, "a scripted log is small").toBeLessThan(log_slots_max);
  return `${held.map(formatRecord).join(" ")} | through ${store.chosenThrough()}`;
}

/** Every acceptor's log, by acceptor id. */
export function acceptorLogs(c: ProposerCluster): Record<string, string> {
  return Object.fromEntries(c.ids.map((id) => [id, acceptorLog(c, id)]));
}
