/**
 * The checker can fail. Each planted bug below must be caught by the simulator within a stated number
 * of seeds (scanning from seed 1; the bound is the first failing seed, measured, with margin, and at
 * most the issue's 400), and the correct code must be clean on every seed the scans ran, so that a
 * catch is the breakage, not noise. The catch table (first failing seed per bug) is in the README;
 * `npm run sim -- --seed N --sabotage MODE` replays one of the core's modes.
 *
 * - Built here: quorums that do not intersect, and a proposer that skips recovery.
 * - The coordinator design (issue #12, test/sim/coordinator.ts): a Worker that, when its forward to
 *   the coordinator fails or times out, proposes the same request itself; and rounds in flight in the
 *   coordinator that share a slot (a core sabotage switch, run with the coordinator).
 * - Module mocks (pure functions; the simulator is re-imported under the mock, production has no
 *   switch): a chain hash not prefixed with the previous hash, ballots compared without proposer id.
 * - The core's sabotage switches (src/core/sabotage.ts), off in production.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { unsafeQuorumConfigForTests } from "../../src/core/quorum.js";
import type { Sabotage } from "../../src/core/sabotage.js";
import type { ScenarioOverrides, ScenarioResult } from "./scenario.js";

type RunScenario = (seed: number, overrides?: ScenarioOverrides) => Promise<ScenarioResult>;

/** The issue's bound on every planted bug. */
const seeds_bound = 400;
/** What a lost or overwritten choice looks like to the checker. */
const safety = /two different values chosen|safety violation|diverges|does not match|acknowledged entry lost/;
/**
 * What a replica left behind looks like: a proposer that never told an acceptor of a slot it chose,
 * or anti-entropy at the Durable Object's timings missing the convergence deadline.
 */
const untold = /was never committed to|did not converge/;

const mocked_modules = ["../../src/core/hash.js", "../../src/core/ballot.js"] as const;

/** Seeds each shape was scanned through (the highest catching seed), for the clean control at the end. */
const scanned = new Map<string, { overrides: ScenarioOverrides; through: number }>();

async function firstCaught(
  run: RunScenario,
  overrides: ScenarioOverrides,
  seeds_max: number,
): Promise<{ seed: number; violations: readonly string[] } | undefined> {
  expect(seeds_max).toBeLessThanOrEqual(seeds_bound);
  for (let seed = 1; seed <= seeds_max; seed++) {
    const result = await run(seed, overrides);
    if (result.violations.length > 0) return { seed, violations: result.violations };
  }
  return undefined;
}

/** The production simulator, imported fresh, with every module mock of this file removed. */
async function cleanScenario(): Promise<RunScenario> {
  for (const path of mocked_modules) vi.doUnmock(path);
  vi.resetModules();
  return (await import("./scenario.js")).runScenario;
}

/**
 * Asserts the bug is caught within `seeds_max` seeds with a violation matching `expected`, and that
 * the correct code of the same shape (`cleanOverrides`) is clean on the catching seed. Returns it.
 */
async function expectCaught(
  broken: RunScenario,
  overrides: ScenarioOverrides,
  seeds_max: number,
  expected: RegExp,
  cleanOverrides: ScenarioOverrides,
  diagnosis: () => string = () => "",
): Promise<number> {
  const caught = await firstCaught(broken, overrides, seeds_max);
  expect(caught, `not caught within ${seeds_max} seeds ${diagnosis()}`).toBeDefined();
  const { seed, violations } = caught!;
  expect(violations.join("\n"), `seed ${seed} failed, but not as this bug fails`).toMatch(expected);
  const clean = await (await cleanScenario())(seed, cleanOverrides);
  expect(clean.violations, `the correct code fails seed ${seed} too`).toEqual([]);
  const key = JSON.stringify(cleanOverrides);
  scanned.set(key, { overrides: cleanOverrides, through: Math.max(seed, scanned.get(key)?.through ?? 0) });
  console.log(
    `caught at seed ${seed} (bound ${seeds_max}): ${violations.find((v) => expected.test(v)) ?? violations[0]}`,
  );
  return seed;
}

afterEach(() => {
  for (const path of mocked_modules) vi.doUnmock(path);
  vi.resetModules();
});

describe("built here", () => {
  const shape: ScenarioOverrides = { acceptors: 3, proposers: 3 };

  test("non-intersecting quorums (3 acceptors, prepare 1, accept 1) are caught within 40 seeds", async () => {
    await expectCaught(
      await cleanScenario(),
      { ...shape, quorum: unsafeQuorumConfigForTests(3, 1, 1) },
      40,
      safety,
      shape,
    );
  });

  test("a proposer that skips recovery is caught within 40 seeds", async () => {
    await expectCaught(
      await cleanScenario(),
      { ...shape, proposerOptions: { skipRecoveryForTests: true } },
      40,
      safety,
      shape,
    );
  });
});

describe("the coordinator design", () => {
  const shape: ScenarioOverrides = { coordinator: true };

  /**
   * The trap the study of issue #12 found: a fallback to proposing in the Worker. A forward whose
   * answer was lost (a reset, a cut, a dropped reply) may have committed; the Worker's own proposer
   * then finds the request's entries already in the ledger and answers them `exists` in the
   * request's one and only attempt, against the receipts rule (README). Seed 3 is the first caught.
   */
  test("a Worker that proposes itself when its forward fails is caught within 20 seeds", async () => {
    let fallbacks = 0;
    const broken: RunScenario = async (seed, overrides) => {
      const result = await (await cleanScenario())(seed, overrides);
      fallbacks += result.stats.counters?.forward_fallbacks ?? 0;
      return result;
    };
    await expectCaught(
      broken,
      { ...shape, forwardFallback: "direct_for_tests" },
      20,
      /its own new entry \S+ was answered exists .* by the request's first and only attempt/,
      shape,
      () => `(${fallbacks} fallbacks to the Worker's own proposer)`,
    );
    expect(fallbacks, "no forward ever failed: the fallback was never exercised").toBeGreaterThan(0);
  });

  /**
   * The coordinator keeps group rounds in flight (`roundsInFlightMax`). The planted bug: a round takes
   * the next slot but moves the proposer's next slot on only when its phase 2 ends, so that rounds in
   * flight together propose different values in one slot at one ballot.
   */
  test("rounds in flight that share a slot are caught within 10 seeds", async () => {
    await expectCaught(
      await cleanScenario(),
      { ...shape, sabotage: "rounds_in_flight_share_a_slot" },
      10,
      /proposed two values for slot|two different values chosen/,
      shape,
    );
  });
});

describe("module mocks", () => {
  test("a chain hash not prefixed with the previous hash is caught within 5 seeds (the checker hashes on its own)", async () => {
    let calls = 0;
    vi.resetModules();
    vi.doMock("../../src/core/hash.js", async (importOriginal) => {
      const original = await importOriginal<typeof import("../../src/core/hash.js")>();
      const { canonicalJson } = await import("../../src/core/canonical-json.js");
      // The planted bug: the previous hash is not hashed in (only the entry's own prevHash field is).
      const entryHash = (_prevHash: string, entryWithoutHash: object): string => {
        calls++;
        return original.sha256Hex(canonicalJson(entryWithoutHash));
      };
      return { ...original, entryHash };
    });
    const run = (await import("./scenario.js")).runScenario;
    await expectCaught(run, {}, 5, /hash does not verify/, {});
    expect(calls, "the mock never reached the core").toBeGreaterThan(0);
  });

  test("ballots compared without the proposer id are caught within 300 seeds", async () => {
    let ties = 0;
    vi.resetModules();
    vi.doMock("../../src/core/ballot.js", async (importOriginal) => {
      const original = await importOriginal<typeof import("../../src/core/ballot.js")>();
      type Ballot = import("../../src/core/ballot.js").Ballot;
      // The planted bug: two proposers' ballots of one round compare equal.
      const compareBallots = (a: Ballot, b: Ballot): number => {
        if (a.round === b.round && a.proposerId !== b.proposerId) ties++;
        return a.round === b.round ? 0 : a.round < b.round ? -1 : 1;
      };
      return {
        ...original,
        compareBallots,
        ballotsEqual: (a: Ballot, b: Ballot) => compareBallots(a, b) === 0,
        maxBallot: (a: Ballot, b: Ballot) => (compareBallots(a, b) >= 0 ? a : b),
      };
    });
    const run = (await import("./scenario.js")).runScenario;
    await expectCaught(run, {}, 300, safety, {}, () => `(${ties} comparisons of tied ballots of two proposers)`);
    expect(ties, "no two proposers' ballots ever tied: the bug was never exercised").toBeGreaterThan(0);
  });
});

/** Each mode of src/core/sabotage.ts, with its bound and what its failure looks like. */
const core_modes: ReadonlyArray<{ readonly mode: Sabotage; readonly seeds_max: number; readonly expected: RegExp }> = [
  { mode: "truncated_promise_treated_complete", seeds_max: 50, expected: safety },
  { mode: "promise_in_memory_only", seeds_max: 50, expected: safety },
  { mode: "owed_values_dropped", seeds_max: 20, expected: untold },
  { mode: "lost_commits_never_resent", seeds_max: 20, expected: untold },
  { mode: "recovery_takes_lowest_ballot", seeds_max: 50, expected: safety },
  { mode: "read_index_from_one_replica", seeds_max: 20, expected: /stale read/ },
];

describe("the core's sabotage switches", () => {
  for (const { mode, seeds_max, expected } of core_modes) {
    test(`${mode} is caught within ${seeds_max} seeds`, async () => {
      await expectCaught(await cleanScenario(), { sabotage: mode }, seeds_max, expected, {});
    });
  }
});

test("control: the correct code is clean on every seed the catches above scanned, shape by shape", async () => {
  const run = await cleanScenario();
  // Run alone (a filtered run), there is nothing scanned: the first seeds of the default shape stand in.
  const shapes = scanned.size > 0 ? [...scanned.values()] : [{ overrides: {}, through: 10 }];
  for (const { overrides, through } of shapes) {
    for (let seed = 1; seed <= through; seed++) {
      const result = await run(seed, overrides);
      expect(result.violations, `${result.summary}: ${result.violations.slice(0, 3).join("; ")}`).toEqual([]);
    }
  }
});
