/**
 * One quorum call: a request to the acceptors (to the targets first, when given), settled on the
 * first `need` replies that pass `isOk`, or as soon as that has become impossible, or when the wait
 * ends. Each message may carry the commits owed to its acceptor; what an acceptor did not
 * acknowledge is reported (`unacknowledged`), even after the call settled.
 */
import type { AcceptorReply, AcceptorRequest } from "../messages.js";
import type { OwedCommits } from "./commit-debt.js";
import type { Timers } from "./timers.js";

export type QuorumResult<R> = { ok: true; replies: R[] } | { ok: false; replies: AcceptorReply[] };

/** What one acceptor did not acknowledge. */
export interface Unacknowledged {
  /** The owed commits its message carried, when its call failed or it was silent when the wait ended. */
  readonly commits: OwedCommits | undefined;
  /** Its call failed or it refused (a reply that does not pass `isOk`): it did not take the request. */
  readonly requestNotTaken: boolean;
}

export interface QuorumCall<R extends AcceptorReply> {
  readonly acceptorIds: readonly string[];
  /** Sent to first; the others only after `escalate_after_ms` or when a target fails. Undefined: all at once. */
  readonly targets: readonly string[] | undefined;
  readonly escalate_after_ms: number;
  readonly need: number;
  readonly isOk: (r: AcceptorReply) => r is R;
  /** The request for `id`, carrying `carried` (the commits taken for it, if any). */
  readonly requestFor: (id: string, carried: OwedCommits | undefined) => AcceptorRequest;
  /** Takes what is owed to `id` for its message to carry; absent: messages carry no commits. */
  readonly takeCarried?: (id: string) => OwedCommits | undefined;
  /** This wait (cut short by the attempt's deadline), and the whole timeout it may be a part of. */
  readonly timeout_ms: number;
  readonly full_timeout_ms: number;
}

/** Where a quorum call sends, and what it tells of each acceptor as it goes. */
export interface QuorumCallEnv {
  readonly timers: Timers;
  now_ms(): number;
  send(id: string, request: AcceptorRequest): Promise<AcceptorReply>;
  sent(id: string): void;
  answered(id: string, reply: AcceptorReply, took_ms: number): void;
  callFailed(id: string, error: unknown): void;
  unacknowledged(id: string, what: Unacknowledged): void;
  /** Silent through a whole timeout: counts as unreachable. */
  silentThroughTimeout(id: string, timeout_ms: number): void;
  /** The targets did not answer in time: the next thrifty call picks its targets afresh. */
  escalated(): void;
  /** How long the quorum took (or, without one, the whole wait): it scales the next waits. */
  quorumRoundTrip(took_ms: number): void;
}

export function callQuorum<R extends AcceptorReply>(call: QuorumCall<R>, env: QuorumCallEnv): Promise<QuorumResult<R>> {
  const { acceptorIds, targets, need, isOk, timeout_ms, full_timeout_ms } = call;
  const total = acceptorIds.length;
  const started_ms = env.now_ms();
  const first = targets ?? acceptorIds;
  /** Acceptors sent to that have neither answered nor failed yet. */
  const silent = new Set<string>();
  return new Promise((resolve) => {
    const ok: R[] = [];
    const all: AcceptorReply[] = [];
    let failed = 0;
    let sent = 0;
    let escalated = targets === undefined;
    let settled = false;
    const escalation = env.timers.timer("thrifty_escalation", { keptAlive: false });
    const settle = (result: QuorumResult<R>) => {
      if (settled) return;
      settled = true;
      escalation.cancel();
      resolve(result);
    };
    const escalate = () => {
      if (escalated || settled) return;
      escalated = true;
      escalation.cancel();
      env.escalated();
      for (const id of acceptorIds) if (!first.includes(id)) sendTo(id);
    };
    // Commits carried to acceptors that have not answered yet: reported if the call fails or is
    // still unanswered when the wait ends (the one timer below, not one more per message).
    const unacknowledged = new Map<string, OwedCommits>();
    const takeUnacknowledged = (id: string) => {
      const carried = unacknowledged.get(id);
      unacknowledged.delete(id);
      return carried;
    };
    const fail = () => {
      failed++;
      if (!escalated && sent - failed < need) escalate();
      if (total - failed < need) settle({ ok: false, replies: all });
    };
    const sendTo = (id: string) => {
      env.sent(id);
      sent++;
      const sent_ms = env.now_ms();
      const carried = call.takeCarried?.(id);
      if (carried !== undefined && carried.items.length > 0) unacknowledged.set(id, carried);
      silent.add(id);
      env.send(id, call.requestFor(id, carried)).then(
        (reply) => {
          unacknowledged.delete(id);
          silent.delete(id);
          all.push(reply);
          env.answered(id, reply, env.now_ms() - sent_ms);
          if (isOk(reply)) {
            ok.push(reply);
            // A quorum that answers after the wait gave up is measured too: otherwise a cluster
            // that became slower than the timeout would never be waited for long enough again.
            if (ok.length === need) env.quorumRoundTrip(env.now_ms() - started_ms);
            if (ok.length >= need && !settled) settle({ ok: true, replies: ok });
          } else {
            env.unacknowledged(id, { commits: undefined, requestNotTaken: true });
            fail();
          }
        },
        (error: unknown) => {
          silent.delete(id);
          const commits = takeUnacknowledged(id);
          env.callFailed(id, error);
          env.unacknowledged(id, { commits, requestNotTaken: true });
          fail();
        },
      );
    };
    for (const id of first) sendTo(id);
    if (!escalated) escalation.start(call.escalate_after_ms, escalate);
    // Kept alive after the answer (a Worker's waitUntil) while it may still report commits.
    const wait = env.timers.timer("quorum_timeout", { keptAlive: unacknowledged.size > 0 });
    wait.start(timeout_ms, () => {
      for (const id of [...unacknowledged.keys()]) {
        env.unacknowledged(id, { commits: takeUnacknowledged(id), requestNotTaken: false });
      }
      if (timeout_ms >= full_timeout_ms) {
        for (const id of silent) env.silentThroughTimeout(id, full_timeout_ms);
        // A whole wait without a quorum counts as a round trip at least that long: the next wait
        // is longer (up to the cap), so a slowed cluster is waited for, and a dead one still is
        // answered within `quorum_timeout_ms`.
        if (!settled) env.quorumRoundTrip(timeout_ms);
      }
      settle({ ok: false, replies: all });
    });
  });
}
