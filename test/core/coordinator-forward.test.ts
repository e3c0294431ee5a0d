/**
 * The pure halves of the coordinator design (src/core/coordinator): the coordinator's answer for its
 * proposer's outcome or error, turned back into the same outcome or error on the Worker's side, and
 * the Worker's forward, which answers 503 with the outcome unknown when the coordinator cannot be
 * reached or does not answer within the request's deadline plus `coordinator_answer_margin_ms`.
 * Virtual time (the simulator's World), so the timeout is checked to the millisecond.
 */
import { describe, expect, test } from "vitest";
import {
  type AppendAnswer,
  answerOf,
  type CoordinatorLink,
  coordinator_answer_margin_ms,
  type ForwardEnv,
  forwardAppend,
  forwardSync,
  forwardWait_ms,
  type SyncAnswer,
  unwrapAnswer,
} from "../../src/core/coordinator/index.js";
import type { EntryInput } from "../../src/core/entry-schema.js";
import type { BatchOutcome } from "../../src/core/ledger-types.js";
import { limits } from "../../src/core/limits.js";
import { ProposerOverloadedError, QuorumUnavailableError } from "../../src/core/proposer/index.js";
import type { RequestOptions } from "../../src/core/proposer/types.js";
import { World } from "../sim/world.js";

const entry: EntryInput = { id: "f1", account: "acct-1", symbol: "AAPL", side: "buy", quantity: "1", price: "100.25" };

const applied: BatchOutcome = {
  kind: "applied",
  receipts: [
    { id: "f1", seq: 7, slot: 5, hash: "ab".repeat(32), committedAt: "2026-12-04T11:00:00.000Z", status: "created" },
  ],
};

/** What `unwrapAnswer(await answerOf(work))` gives: the value, or the error it threw. */
async function roundTrip<T>(work: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  try {
    // Through structuredClone, as a Durable Object RPC carries it: the answer is plain data.
    const answer = structuredClone(await answerOf(work));
    return { value: unwrapAnswer(answer) };
  } catch (error) {
    return { error };
  }
}

describe("answers round-trip (answerOf on the coordinator, unwrapAnswer on the Worker)", () => {
  test("an outcome comes back as the same outcome", async () => {
    expect(await answerOf(Promise.resolve(applied))).toEqual({ kind: "done", value: applied });
    expect(await roundTrip(Promise.resolve(applied))).toEqual({ value: applied });
    expect(await roundTrip(Promise.resolve(null))).toEqual({ value: null });
  });

  test("a 503 comes back as QuorumUnavailableError with its message and whether the outcome is unknown", async () => {
    for (const proposed of [true, false]) {
      const result = await roundTrip(Promise.reject(new QuorumUnavailableError("no quorum: a, b", { proposed })));
      expect("error" in result).toBe(true);
      const error = (result as { error: unknown }).error;
      expect(error).toBeInstanceOf(QuorumUnavailableError);
      expect((error as QuorumUnavailableError).message).toBe("no quorum: a, b");
      expect((error as QuorumUnavailableError).outcomeUnknown).toBe(proposed);
    }
  });

  test("a 429 comes back as ProposerOverloadedError, not as a 503", async () => {
    const answer = await answerOf(Promise.reject(new ProposerOverloadedError("queue full")));
    expect(answer).toEqual({ kind: "overloaded", message: "queue full" });
    const result = await roundTrip(Promise.reject(new ProposerOverloadedError("queue full")));
    const error = (result as { error: unknown }).error;
    expect(error).toBeInstanceOf(ProposerOverloadedError);
    expect(error).not.toBeInstanceOf(QuorumUnavailableError);
    expect((error as Error).message).toBe("queue full");
  });

  test("any other error is rethrown by answerOf, never turned into an answer", async () => {
    const bug = new TypeError("undefined is not a function");
    await expect(answerOf(Promise.reject(bug))).rejects.toBe(bug);
    await expect(answerOf(Promise.reject(new RangeError("x")))).rejects.toBeInstanceOf(RangeError);
  });
});

describe("forwardWait_ms: the request's deadline plus the margin, the deadline capped", () => {
  test("by default the whole commit deadline", () => {
    expect(forwardWait_ms({})).toBe(limits.commit_deadline_ms + coordinator_answer_margin_ms);
  });

  test("a shorter deadline waits less", () => {
    expect(forwardWait_ms({ deadline_ms: 300 })).toBe(300 + coordinator_answer_margin_ms);
    expect(forwardWait_ms({ deadline_ms: 0 })).toBe(coordinator_answer_margin_ms);
  });

  test("a longer deadline than commit_deadline_ms is capped at it", () => {
    expect(forwardWait_ms({ deadline_ms: limits.commit_deadline_ms * 10 })).toBe(
      limits.commit_deadline_ms + coordinator_answer_margin_ms,
    );
  });

  test("the margin covers the longest round trip of the RTT table (322.5 ms)", () => {
    expect(coordinator_answer_margin_ms).toBeGreaterThan(322.5);
  });
});

/** A link whose calls are answered (or not) on virtual time, recording what it was sent. */
function virtualLink(world: World) {
  const sent: Array<{ what: "append" | "sync"; entries?: readonly EntryInput[]; options: RequestOptions }> = [];
  const behaviour: { mode: "answer" | "silent" | "reject"; after_ms: number; append: AppendAnswer; sync: SyncAnswer } =
    {
      mode: "answer",
      after_ms: 100,
      append: { kind: "done", value: applied },
      sync: { kind: "done", value: null },
    };
  const reply = <T>(answer: T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (behaviour.mode === "silent") return;
      world.schedule(behaviour.after_ms, () =>
        behaviour.mode === "reject" ? reject(new Error("Network connection lost.")) : resolve(structuredClone(answer)),
      );
    });
  const link: CoordinatorLink = {
    append(entries, options) {
      sent.push({ what: "append", entries, options });
      return reply(behaviour.append);
    },
    sync(options) {
      sent.push({ what: "sync", options });
      return reply(behaviour.sync);
    },
  };
  const env: ForwardEnv = { sleep: (ms) => world.sleep(ms) };
  return { link, env, sent, behaviour };
}

/** Runs `work` on virtual time to its end; returns what it gave and when (virtual ms). */
async function onVirtualTime<T>(world: World, work: () => Promise<T>) {
  let settled: { value: T } | { error: unknown } | undefined;
  let at_ms = Number.NaN;
  void work().then(
    (value) => {
      settled = { value };
      at_ms = world.now_ms;
    },
    (error: unknown) => {
      settled = { error };
      at_ms = world.now_ms;
    },
  );
  await world.run(60_000, 10_000, () => settled !== undefined);
  return { settled, at_ms };
}

describe("forwardAppend and forwardSync on virtual time", () => {
  test("an answered append gives the coordinator's outcome, and passes the entries and options on", async () => {
    const world = new World();
    const { link, env, sent } = virtualLink(world);
    const { settled, at_ms } = await onVirtualTime(world, () =>
      forwardAppend(link, env, [entry], { deadline_ms: 900 }),
    );
    expect(settled).toEqual({ value: applied });
    expect(at_ms).toBe(100);
    expect(sent).toEqual([{ what: "append", entries: [entry], options: { deadline_ms: 900 } }]);
  });

  test("the coordinator's 503 and 429 become the Worker's own", async () => {
    const world = new World();
    const v = virtualLink(world);
    v.behaviour.append = { kind: "unavailable", message: "no quorum", outcomeUnknown: false };
    const unavailable = await onVirtualTime(world, () => forwardAppend(v.link, v.env, [entry]));
    const error = (unavailable.settled as { error: unknown }).error;
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    expect((error as QuorumUnavailableError).outcomeUnknown).toBe(false);
    v.behaviour.append = { kind: "overloaded", message: "queue full" };
    const overloaded = await onVirtualTime(world, () => forwardAppend(v.link, v.env, [entry]));
    expect((overloaded.settled as { error: unknown }).error).toBeInstanceOf(ProposerOverloadedError);
  });

  test("no answer: QuorumUnavailableError, outcome unknown, exactly at deadline + margin", async () => {
    for (const options of [{}, { deadline_ms: 700 }, { deadline_ms: 60_000 }] as RequestOptions[]) {
      const world = new World();
      const v = virtualLink(world);
      v.behaviour.mode = "silent";
      const { settled, at_ms } = await onVirtualTime(world, () => forwardAppend(v.link, v.env, [entry], options));
      const error = (settled as { error: unknown }).error;
      expect(error).toBeInstanceOf(QuorumUnavailableError);
      expect((error as QuorumUnavailableError).outcomeUnknown).toBe(true);
      expect((error as Error).message).toMatch(/did not answer the append within/);
      expect(at_ms).toBe(forwardWait_ms(options));
    }
  });

  test("an answer one millisecond inside the wait is taken; one millisecond after it is not", async () => {
    for (const [after_ms, answered] of [
      [forwardWait_ms({}) - 1, true],
      [forwardWait_ms({}) + 1, false],
    ] as const) {
      const world = new World();
      const v = virtualLink(world);
      v.behaviour.after_ms = after_ms;
      const { settled } = await onVirtualTime(world, () => forwardAppend(v.link, v.env, [entry]));
      expect("value" in settled!, `answer after ${after_ms} ms`).toBe(answered);
    }
  });

  test("a rejecting link (the coordinator unreachable): QuorumUnavailableError, outcome unknown, at once", async () => {
    const world = new World();
    const v = virtualLink(world);
    v.behaviour.mode = "reject";
    v.behaviour.after_ms = 30;
    const { settled, at_ms } = await onVirtualTime(world, () => forwardAppend(v.link, v.env, [entry]));
    const error = (settled as { error: unknown }).error;
    expect(error).toBeInstanceOf(QuorumUnavailableError);
    expect((error as QuorumUnavailableError).outcomeUnknown).toBe(true);
    expect((error as Error).message).toMatch(/could not be reached for the append: Network connection lost/);
    expect(at_ms).toBe(30);
  });

  test("a link that throws synchronously is a failed call too, not a crash of the Worker", async () => {
    const world = new World();
    const v = virtualLink(world);
    const throwing: CoordinatorLink = {
      append: () => {
        throw new Error("stub is broken");
      },
      sync: v.link.sync,
    };
    const { settled } = await onVirtualTime(world, () => forwardAppend(throwing, v.env, [entry]));
    expect((settled as { error: unknown }).error).toBeInstanceOf(QuorumUnavailableError);
  });

  test("forwardSync: done is nothing, a silent coordinator is a 503 at deadline + margin", async () => {
    const world = new World();
    const v = virtualLink(world);
    const done = await onVirtualTime(world, () => forwardSync(v.link, v.env, { deadline_ms: 400 }));
    expect(done.settled).toEqual({ value: undefined });
    expect(v.sent).toEqual([{ what: "sync", options: { deadline_ms: 400 } }]);
    v.behaviour.mode = "silent";
    const start_ms = world.now_ms;
    const silent = await onVirtualTime(world, () => forwardSync(v.link, v.env, { deadline_ms: 400 }));
    expect((silent.settled as { error: unknown }).error).toBeInstanceOf(QuorumUnavailableError);
    expect((silent.settled as { error: Error }).error.message).toMatch(/did not answer the recovery/);
    expect(silent.at_ms - start_ms).toBe(400 + coordinator_answer_margin_ms);
  });
});
