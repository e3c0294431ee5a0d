/** The proposer's queue is bounded in requests and in bytes; beyond either it refuses (429), proposing nothing. */
import { describe, expect, test } from "vitest";
import type { EntryInput } from "../../src/core/entry-schema.js";
import { limits } from "../../src/core/limits.js";
import { takeoverPollsMax } from "../../src/core/proposer/group-commit.js";
import { Proposer, ProposerOverloadedError, QuorumUnavailableError } from "../../src/core/proposer/index.js";
import { quorumConfig } from "../../src/core/quorum.js";
import { World } from "../sim/world.js";

/** A proposer whose acceptors never answer and whose timers never fire: every request stays queued. */
function stuckProposer(): { proposer: Proposer; sent: () => number } {
  let sent = 0;
  const proposer = new Proposer({
    proposerId: "p",
    acceptorIds: ["a", "b", "c"],
    quorum: quorumConfig(3),
    send: () => {
      sent++;
      return new Promise(() => {});
    },
    now_ms: () => 1_800_000_000_000,
    sleep: () => new Promise(() => {}),
    random: () => 0.5,
  });
  return { proposer, sent: () => sent };
}

function entries(prefix: string, n: number, metadataChars: number): EntryInput[] {
  const metadata = Object.fromEntries(Array.from({ length: 16 }, (_, k) => [`k${k}`, "x".repeat(metadataChars)]));
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    account: "A",
    symbol: "S",
    side: "buy" as const,
    quantity: "1",
    price: "1",
    metadata,
  }));
}

describe("proposer queue bounds", () => {
  test(`more than proposer_queue_bytes_max (${limits.proposer_queue_bytes_max}) bytes of queued entries are refused`, async () => {
    const { proposer } = stuckProposer();
    const big = (i: number) => entries(`r${i}`, 400, 256); // about 1.7 MB each
    const outcomes: Array<Promise<unknown>> = [];
    let refused: unknown;
    for (let i = 0; i < 40 && refused === undefined; i++) {
      const p = proposer.append(big(i));
      p.catch((e: unknown) => (refused = e));
      outcomes.push(p);
      await Promise.resolve();
      await Promise.resolve();
    }
    expect(refused).toBeInstanceOf(ProposerOverloadedError);
    expect(String((refused as Error).message)).toMatch(/bytes/);
    // The first request is in flight; the queue holds at most the byte bound.
    expect(outcomes.length).toBeLessThanOrEqual(Math.ceil(limits.proposer_queue_bytes_max / 1_600_000) + 2);
  });

  test(`more than proposer_queue_requests_max (${limits.proposer_queue_requests_max}) queued requests are refused`, async () => {
    const { proposer, sent } = stuckProposer();
    let refused: unknown;
    for (let i = 0; i <= limits.proposer_queue_requests_max + 1 && refused === undefined; i++) {
      proposer.append(entries(`s${i}`, 1, 0)).catch((e: unknown) => (refused = e));
      await Promise.resolve();
    }
    expect(refused).toBeInstanceOf(ProposerOverloadedError);
    expect(String((refused as Error).message)).toMatch(/requests/);
    expect(sent()).toBe(3); // only the first round's prepare went out; nothing else was proposed
  });
});

describe("a waiting request's takeover polls", () => {
  test("are bounded by its deadline over the poll interval, plus one group round per request ahead of it", () => {
    // Production: a 2,000 ms deadline at 5 ms polls, behind at most 4,095 requests; two spare.
    expect(takeoverPollsMax(limits.commit_deadline_ms, limits)).toBe(400 + 4096 + 2);
    // Not the old fixed 1,000,000 polls (83 minutes at 5 ms): the bound follows the deadline.
    expect(takeoverPollsMax(10, limits)).toBe(2 + 4096 + 2);
  });

  test("end the wait as an expiry even when the clock never reaches the deadline", async () => {
    // A wall clock stuck behind the timers (stepped back, say): the deadline check never fires, so
    // only the poll bound ends the wait. The request is answered 503, outcome unknown (it was
    // proposed), not failed with an invariant error while it stays queued to be committed later.
    const world = new World();
    const small = { ...limits, proposer_queue_requests_max: 2 };
    const proposer = new Proposer(
      {
        proposerId: "p",
        acceptorIds: ["a", "b", "c"],
        quorum: quorumConfig(3),
        send: () => new Promise(() => {}),
        now_ms: () => 1_800_000_000_000,
        sleep: (ms) => world.sleep(ms),
        random: () => 0.5,
      },
      { limits: small },
    );
    const deadline_ms = 10;
    let answer: unknown;
    proposer.append(entries("stuck", 1, 1), undefined, { deadline_ms }).then(
      () => {
        answer = "applied";
      },
      (error: unknown) => {
        answer = error;
      },
    );
    await world.run(60_000, 100_000, () => answer !== undefined);
    expect(answer).toBeInstanceOf(QuorumUnavailableError);
    expect(answer).toMatchObject({ outcomeUnknown: true });
    // It waited its polls, no more: the bound, at 5 ms a poll.
    expect(world.now_ms).toBe(takeoverPollsMax(deadline_ms, small) * small.driver_takeover_poll_ms);
  });
});
