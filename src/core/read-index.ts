/**
 * Reads with a chosen consistency, over the replicas of one ledger. Linearizable reads use a read
 * index: ask a prepare quorum (which meets every accept quorum, so it holds every acknowledged slot)
 * for its applied prefix and highest held slot, then read from a replica that has applied up to the
 * highest of these.
 *
 * Time, timeouts, the replicas' calls and recovery (`sync`) come in through `ReadEnv`, in the style
 * of `ProposerEnv`, so the Worker (`src/proposer/ledger-service.ts`) and the simulator run this very
 * code.
 */
import type { LedgerHead } from "./ledger-types.js";
import type { QuorumConfig } from "./quorum.js";
import type { Sabotage } from "./sabotage.js";

/** What every read returns beside its data, so the caller can check how current the replica is. */
export interface ReplicaState {
  readonly chosenThrough: number;
  readonly head: LedgerHead;
  /** Highest slot held, chosen or not: a linearizable read waits until some replica has applied it. */
  readonly highestSlot: number;
}

/** How long a read waits for one replica. */
export const read_timeout_ms = 2000;
/** Polls of the read index before a linearizable read forces recovery of an undecided slot. */
export const read_index_polls_max = 4;
export const read_index_poll_interval_ms = 50;
/**
 * How long a linearizable read waits in all for a replica to apply its read index, recovery of an
 * undecided slot (a `sync`) and the application of its decision included. After a crash the slots
 * a dead leader left undecided are decided by the read's `sync`, then reach the replicas by Commit
 * (after `commit_linger_ms`) or by their own catch-up: the read waits for that, not one more look.
 */
export const read_index_wait_ms = 6000;
/** Recoveries (`sync`) one linearizable read may run while it waits, and the polls between two of them. */
export const read_index_syncs_max = 3;
export const read_index_polls_between_syncs = 20;
/**
 * Polls one read index may run: a bound on the loop beside its time bound (`read_index_wait_ms`),
 * which an env whose sleep returns at once could otherwise never reach.
 */
export const read_index_polls_limit =
  Math.ceil(read_index_wait_ms / read_index_poll_interval_ms) + read_index_polls_max;

export type Consistency = { readonly mode: "linearizable" } | { readonly mode: "local"; readonly minSeq?: number };

/** A replica that answered a read had not applied the read index (it cannot serve a linearizable read). */
export class ReplicaBehindError extends Error {
  override name = "ReplicaBehindError";
}

/**
 * A read that no replica could serve in time (down, lost messages, behind). A read changes nothing,
 * so unlike a failed append there is no unknown outcome: the client may simply retry it.
 */
export class ReadUnavailableError extends Error {
  override name = "ReadUnavailableError";
}

/** A replica did not answer within `read_timeout_ms` (or its message was lost). */
export class ReplicaTimeoutError extends Error {
  override name = "ReplicaTimeoutError";
}

export interface ReadEnv<Id extends string = string> {
  /** Every replica, in configuration order. */
  readonly replicas: readonly Id[];
  readonly quorum: QuorumConfig;
  /** One replica's state; rejects (or never settles) when it cannot: the core bounds the wait. */
  readState(replica: Id): Promise<ReplicaState>;
  now_ms(): number;
  sleep(ms: number): Promise<void>;
  /**
   * `work`, or a rejection with `ReplicaTimeoutError` once `ms` have passed: a race whose timer the
   * platform clears when `work` settles first.
   */
  withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T>;
  /** The replicas from nearest to farthest (configuration order until measured). */
  nearestFirst(): readonly Id[];
  /** Decides every slot left undecided (the proposer's `sync`); rejects when no phase-1 quorum answers. */
  sync(): Promise<void>;
}

export interface ReadOptions {
  /** Test-only: `read_index_from_one_replica` takes the read index from one replica (the planted bug). */
  readonly sabotage?: Sabotage;
}

export interface ReplicaStateOf<Id extends string = string> {
  readonly replica: Id;
  readonly state: ReplicaState;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The highest slot a replica holds, applied or only accepted. */
function heldThrough(state: ReplicaState): number {
  return Math.max(state.chosenThrough, state.highestSlot);
}

/**
 * The read index: a slot that every entry acknowledged before the read began is at or below.
 * A chosen slot is held durably by an accept quorum (acceptors never drop an accepted slot), so
 * among the `k` replicas that answered, at least `accept - (n - k)` hold it: the read index is the
 * `(accept - (n - k))`-th highest slot they hold. With only a prepare quorum answering that is the
 * highest (Q1 + Q2 > n); with every replica answering, a slot accepted by a minority only (a leader
 * died mid-round) no longer counts, so a read need not wait for what was never acknowledged.
 * Infinity when too few answered to tell.
 */
export function readIndexOf(states: readonly ReplicaStateOf[], quorum: QuorumConfig, replicaCount: number): number {
  const holdersNeeded = quorum.accept - (replicaCount - states.length);
  const held = states.map(({ state }) => heldThrough(state)).sort((a, b) => b - a);
  // Below one holder needed (too few answered) the index is out of range too: infinity.
  return held[holdersNeeded - 1] ?? Number.POSITIVE_INFINITY;
}

/** The replicas among `states` that have applied `minSlot`, in the order of `nearestFirst`. */
export function readyReplicas<Id extends string>(
  states: readonly ReplicaStateOf<Id>[],
  minSlot: number,
  nearestFirst: readonly Id[],
): Id[] {
  return states
    .filter(({ state }) => state.chosenThrough >= minSlot)
    .map(({ replica }) => replica)
    .sort((a, b) => nearestFirst.indexOf(a) - nearestFirst.indexOf(b));
}

/** Whether the recovery (`sync`) of a read index is due at this poll (the first poll is 1). */
export function readIndexSyncDue(poll: number): boolean {
  return (
    poll === read_index_polls_max ||
    (poll > read_index_polls_max && (poll - read_index_polls_max) % read_index_polls_between_syncs === 0)
  );
}

export class LedgerReader<Id extends string = string> {
  constructor(
    private readonly env: ReadEnv<Id>,
    private readonly options: ReadOptions = {},
  ) {}

  private readState(replica: Id): Promise<ReplicaState> {
    return this.env.withTimeout(this.env.readState(replica), read_timeout_ms, `read of ${replica}`);
  }

  /**
   * The replicas a linearizable read may use, and the applied prefix (chosenThrough) they have: the
   * read index from a prepare quorum's states. When no replica has applied it yet, polls (every
   * replica, so a fuller view can lower the index) and, after `read_index_polls_max` polls, decides
   * any stuck slot with a fresh phase 1 (`sync`, at most `read_index_syncs_max` times), then waits
   * until that decision is applied somewhere; all within `read_index_wait_ms`.
   */
  async readIndex(): Promise<{ minSlot: number; ready: Id[] }> {
    const env = this.env;
    const started_ms = env.now_ms();
    const fromOne = this.options.sabotage === "read_index_from_one_replica";
    const states = await this.quorumOfStates(fromOne ? 1 : env.quorum.prepare);
    // The planted bug: one replica's state stands for a prepare quorum's, so a replica that missed
    // an acknowledged slot (thrifty Accepts, a lost message) reports an index below it.
    let minSlot = fromOne ? heldThrough(states[0]!.state) : readIndexOf(states, env.quorum, env.replicas.length);
    let ready = readyReplicas(states, minSlot, env.nearestFirst());
    let syncs = 0;
    for (let poll = 1; ready.length === 0; poll++) {
      const left_ms = started_ms + read_index_wait_ms - env.now_ms();
      if (left_ms <= 0 || poll > read_index_polls_limit) {
        throw new ReadUnavailableError(
          `no replica has applied every acknowledged slot (through slot ${minSlot}) within ${read_index_wait_ms} ms`,
        );
      }
      if (readIndexSyncDue(poll) && syncs < read_index_syncs_max) {
        // A slot accepted above every applied prefix that does not resolve: decide it (a fresh phase 1
        // re-proposes it), then keep polling until the decision has been applied on some replica.
        syncs++;
        const synced = env.sync().then(
          () => undefined,
          (error: unknown) => error ?? new Error("sync failed"),
        );
        const syncError = await Promise.race([synced, env.sleep(left_ms).then(() => undefined)]);
        // No phase-1 quorum to decide the slot: waiting on would only delay the same answer.
        if (syncError !== undefined)
          throw new ReadUnavailableError(
            `the slots above every applied prefix could not be decided: ${reasonOf(syncError)}`,
          );
      } else {
        await env.sleep(read_index_poll_interval_ms);
      }
      const fresh = await this.everyState(minSlot);
      minSlot = Math.min(minSlot, readIndexOf(fresh, env.quorum, env.replicas.length));
      ready = readyReplicas(fresh, minSlot, env.nearestFirst());
    }
    return { minSlot, ready };
  }

  /** The states of every replica that answers, once at least `need` have. */
  private quorumOfStates(need: number): Promise<Array<ReplicaStateOf<Id>>> {
    const replicas = this.env.replicas;
    return new Promise((resolve, reject) => {
      const got: Array<ReplicaStateOf<Id>> = [];
      const failures: string[] = [];
      let done = false;
      for (const replica of replicas) {
        this.readState(replica).then(
          (state) => {
            got.push({ replica, state });
            if (!done && got.length >= need) {
              done = true;
              resolve([...got]); // a copy: later replies do not change what the caller holds
            }
          },
          (error: unknown) => {
            failures.push(reasonOf(error));
            if (!done && replicas.length - failures.length < need) {
              done = true;
              const answered =
                got.length === 0 ? "no replica answered" : `only ${got.length} of ${replicas.length} replicas answered`;
              reject(
                new ReadUnavailableError(`${answered} (a linearizable read needs ${need}): ${failures.join("; ")}`),
              );
            }
          },
        );
      }
    });
  }

  /**
   * Every replica's state, as many as answer within `read_timeout_ms`; settles early once one of them
   * has applied `minSlot` (the read can go on) or when every replica has answered or failed.
   */
  private everyState(minSlot: number): Promise<Array<ReplicaStateOf<Id>>> {
    const replicas = this.env.replicas;
    return new Promise((resolve) => {
      const got: Array<ReplicaStateOf<Id>> = [];
      let settled = 0;
      let done = false;
      const settle = () => {
        settled++;
        const anyReady = got.some(({ state }) => state.chosenThrough >= minSlot);
        if (!done && (anyReady || settled === replicas.length)) {
          done = true;
          resolve([...got]);
        }
      };
      for (const replica of replicas) {
        this.readState(replica).then(
          (state) => {
            got.push({ replica, state });
            settle();
          },
          () => settle(),
        );
      }
    });
  }

  /**
   * Runs a read with the requested consistency:
   * - linearizable (default): on a replica that has applied the read index; when that replica does
   *   not answer, on another that has (each replica at most once);
   * - local: on the nearest replica that answers;
   * - local with `minSeq`: on the nearest replica whose head has reached it, else linearizably
   *   (which includes every acknowledged entry, so read-your-writes holds either way).
   * A read that no replica can serve throws `ReadUnavailableError` (503), never a plain error.
   * Returns what `op` returned and the replica that served it.
   */
  async read<R extends { state: ReplicaState }>(
    consistency: Consistency,
    op: (replica: Id) => Promise<R>,
  ): Promise<{ readonly value: R; readonly replica: Id }> {
    const env = this.env;
    if (consistency.mode === "local") {
      const failures: string[] = [];
      for (const replica of env.nearestFirst()) {
        try {
          const result = await env.withTimeout(op(replica), read_timeout_ms, `read of ${replica}`);
          if (consistency.minSeq === undefined || result.state.head.seq >= consistency.minSeq)
            return { value: result, replica };
        } catch (error) {
          failures.push(reasonOf(error));
        }
      }
      if (consistency.minSeq === undefined)
        throw new ReadUnavailableError(`no replica answered: ${failures.join("; ")}`);
    }
    const { minSlot, ready } = await this.readIndex().catch((error: unknown) => {
      throw error instanceof ReadUnavailableError ? error : new ReadUnavailableError(reasonOf(error));
    });
    // The replicas seen to have applied the read index first, then the others (they may have since).
    const others = env.nearestFirst().filter((r) => !ready.includes(r));
    const failures: string[] = [];
    for (const replica of [...ready, ...others]) {
      try {
        const result = await env.withTimeout(op(replica), read_timeout_ms, `read of ${replica}`);
        if (result.state.chosenThrough >= minSlot) return { value: result, replica };
        failures.push(
          new ReplicaBehindError(`${replica} has applied slot ${result.state.chosenThrough}, not ${minSlot}`).message,
        );
      } catch (error) {
        failures.push(reasonOf(error));
      }
    }
    throw new ReadUnavailableError(`no replica that has applied slot ${minSlot} answered: ${failures.join("; ")}`);
  }
}
