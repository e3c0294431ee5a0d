/**
 * A scripted cluster for the proposer's unit tests: one production `Proposer` over real `Acceptor`s
 * on in-memory stores, in virtual time (the simulator's World). Every message can be watched,
 * delayed, lost or answered by hand, so a test can put the proposer in one exact state and check
 * one exact behaviour. Not a test file: it registers nothing.
 */
import { expect } from "vitest";
import { Acceptor } from "../../src/core/acceptor.js";
import type { EntryInput } from "../../src/core/entry-schema.js";
import type { BatchOutcome } from "../../src/core/ledger-types.js";
import type { CoreLimits } from "../../src/core/limits.js";
import { MemoryAcceptorStore } from "../../src/core/memory-store.js";
import type { AcceptorReply, AcceptorRequest } from "../../src/core/messages.js";
import {
  Proposer,
  type ProposerEnv,
  type ProposerOptions,
  type RequestOptions,
} from "../../src/core/proposer/index.js";
import { type QuorumConfig, quorumConfig } from "../../src/core/quorum.js";
import { World } from "../sim/world.js";
import { trade } from "./fixtures.js";

/** A fixed wall-clock origin, so `now_ms()` looks like a real epoch time. */
export const epoch_ms = 1_800_000_000_000;
/** Bounds on one `world.run` of these helpers: virtual time and events. */
const run_virtual_ms_max = 600_000;
const run_events_max = 2_000_000;

/** What a message's fate is, decided per message by `route` (default: delivered after the one-way delay). */
export type Fate =
  | { readonly kind: "deliver" }
  /** Never delivered, never answered (the caller's promise stays pending). */
  | { readonly kind: "lose" }
  /** Rejected after `after_ms` without reaching the acceptor (a failed call). */
  | { readonly kind: "fail"; readonly after_ms?: number; readonly why?: string }
  /** Delivered, but the reply is lost (the acceptor did the work). */
  | { readonly kind: "lose_reply" }
  /** Answered with this reply after one round trip, without reaching the acceptor. */
  | { readonly kind: "answer"; readonly reply: AcceptorReply };

export interface SentMessage {
  readonly at_ms: number;
  readonly to: string;
  readonly request: AcceptorRequest;
}

export interface ClusterOptions {
  readonly ids?: readonly string[];
  /** One-way delay per acceptor, ms (default 10 for each). */
  readonly one_way_ms?: Readonly<Record<string, number>>;
  readonly quorum?: QuorumConfig;
  readonly proposerId?: string;
  readonly options?: ProposerOptions;
  readonly limits?: CoreLimits;
  /** Limits of the acceptors (default: the proposer's `limits`, else production). */
  readonly acceptorLimits?: CoreLimits;
  /** What `env.random()` returns (default 0.5). */
  readonly random?: () => number;
  readonly subrequestsLeft?: () => number;
  /** Shares acceptors (and the World) with another cluster: a second proposer on the same ledger. */
  readonly sharing?: ProposerCluster;
}

export type ProposerCluster = ReturnType<typeof proposerCluster>;

export function proposerCluster(o: ClusterOptions = {}) {
  const world: World = o.sharing?.world ?? new World();
  const ids: readonly string[] = o.ids ?? o.sharing?.ids ?? ["a", "b", "c"];
  const one_way_ms: Record<string, number> = { ...Object.fromEntries(ids.map((id) => [id, 10])), ...o.one_way_ms };
  const acceptorLimits = o.acceptorLimits ?? o.limits;
  const acceptors: Record<string, Acceptor> =
    o.sharing?.acceptors ??
    Object.fromEntries(
      ids.map((id) => [
        id,
        new Acceptor(new MemoryAcceptorStore(acceptorLimits), {
          id,
          acceptQuorum: (o.quorum ?? quorumConfig(ids.length)).accept,
          ...(acceptorLimits === undefined ? {} : { limits: acceptorLimits }),
        }),
      ]),
    );
  /** Every message the proposer sent, in order. */
  const sent: SentMessage[] = [];
  /** Decides each message's fate; replace it in a test (`c.route = (to, req) => ...`). */
  const control: { route: (to: string, request: AcceptorRequest) => Fate } = {
    route: () => ({ kind: "deliver" }),
  };
  /** Acceptors that fail every call at once. */
  const down = new Set<string>();
  /** Acceptors that never answer (and never receive). */
  const silent = new Set<string>();
  const env: ProposerEnv = {
    proposerId: o.proposerId ?? "p",
    acceptorIds: ids,
    quorum: o.quorum ?? quorumConfig(ids.length),
    send: (to, request) => {
      sent.push({ at_ms: world.now_ms, to, request });
      const fate: Fate = down.has(to)
        ? { kind: "fail", after_ms: 1, why: `${to} is down` }
        : silent.has(to)
          ? { kind: "lose" }
          : control.route(to, request);
      const delay_ms = one_way_ms[to] ?? 10;
      return new Promise<AcceptorReply>((resolve, reject) => {
        switch (fate.kind) {
          case "lose":
            return;
          case "fail":
            world.schedule(fate.after_ms ?? 1, () => reject(new Error(fate.why ?? `${to} failed`)));
            return;
          case "answer":
            world.schedule(2 * delay_ms, () => resolve(fate.reply));
            return;
          case "deliver":
          case "lose_reply":
            world.schedule(delay_ms, () => {
              const reply = acceptors[to]!.handle(request);
              if (fate.kind === "deliver") world.schedule(delay_ms, () => resolve(reply));
            });
        }
      });
    },
    now_ms: () => epoch_ms + Math.floor(world.now_ms),
    sleep: (ms) => world.sleep(ms),
    random: o.random ?? (() => 0.5),
    ...(o.subrequestsLeft === undefined ? {} : { subrequestsLeft: o.subrequestsLeft }),
  };
  const proposer = new Proposer(env, { ...o.options, ...(o.limits === undefined ? {} : { limits: o.limits }) });

  let next = 0;
  type Answer = { ok: true; outcome: BatchOutcome; took_ms: number } | { ok: false; error: unknown; took_ms: number };
  /** Starts one append request now; its answer lands in the returned box when decided. */
  const start = (entries: readonly EntryInput[] = [trade(`t${next++}`)], options: RequestOptions = {}) => {
    const started_ms = world.now_ms;
    const box: { answer?: Answer } = {};
    proposer.append(entries, undefined, options).then(
      (outcome) => (box.answer = { ok: true, outcome, took_ms: world.now_ms - started_ms }),
      (error: unknown) => (box.answer = { ok: false, error, took_ms: world.now_ms - started_ms }),
    );
    return box;
  };
  /** Runs virtual time until `done()` (or the queue of events empties, or the bounds). */
  const runUntil = (done: () => boolean, for_ms = run_virtual_ms_max) =>
    world.run(world.now_ms + for_ms, run_events_max, done);
  /** Runs virtual time for `ms` (every event due in it). */
  const runFor = (ms: number) => world.run(world.now_ms + ms, run_events_max);
  /** Appends one request and runs until it is answered. */
  const append = async (entries?: readonly EntryInput[], options?: RequestOptions): Promise<Answer> => {
    const box = start(entries, options);
    await runUntil(() => box.answer !== undefined);
    expect(box.answer, "the append was answered within the run's bounds").toBeDefined();
    return box.answer!;
  };
  /** Messages of one type sent so far (optionally only to one acceptor). */
  const sentOf = <T extends AcceptorRequest["type"]>(type: T, to?: string) =>
    sent.filter((m) => m.request.type === type && (to === undefined || m.to === to)) as Array<
      SentMessage & { request: Extract<AcceptorRequest, { type: T }> }
    >;
  return {
    world,
    ids,
    one_way_ms,
    acceptors,
    sent,
    sentOf,
    control,
    down,
    silent,
    env,
    proposer,
    start,
    append,
    runUntil,
    runFor,
  };
}
