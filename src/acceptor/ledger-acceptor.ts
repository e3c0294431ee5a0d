/**
 * The acceptor Durable Object: one per (ledger, region), SQLite-backed. It only translates between
 * the platform and the core: RPC methods call the core `Acceptor` (one transaction per message; the
 * output gate holds each reply until its writes are durable), reads go straight to the store, and
 * the alarm runs catch-up from peer acceptors.
 */
import { DurableObject } from "cloudflare:workers";
import { Acceptor } from "../core/acceptor.js";
import { applySlot } from "../core/apply.js";
import { ballot_zero } from "../core/ballot.js";
import type { EntryInput } from "../core/entry-schema.js";
import { entryHash } from "../core/hash.js";
import type { BatchOutcome, Entry, Position } from "../core/ledger-types.js";
import { anti_entropy } from "../core/limits.js";
import type { AcceptorReply, AcceptorRequest, CatchUpReply } from "../core/messages.js";
import type { ReplicaState } from "../core/read-index.js";
import type { SlotValue } from "../core/slot-value.js";
import { type AcceptorIdentity, acceptorName } from "./identity.js";
import { SqliteAcceptorStore } from "./sqlite-store.js";

/** What every read returns beside its data (a core type: the read path in `src/core/read-index.ts` uses it). */
export type { ReplicaState };

export interface ReplicaStatus extends ReplicaState {
  readonly promised: { readonly round: number; readonly proposerId: string };
}

export interface VerifyPage {
  readonly checked: number;
  readonly lastSeq: number;
  readonly lastHash: string;
  /** First seq whose hash or link does not verify, if any. */
  readonly brokenAt?: number;
}

/** The alarm's timings live in the core (`anti_entropy`), shared with the simulator's acceptor. */
const {
  unchosen_alarm_ms,
  idle_probe_ms,
  unreachable_retry_ms,
  gap_retry_ms,
  catch_up_rounds_per_alarm_max,
  restart_probe_ms,
} = anti_entropy;
/** Entries one read or one verify page returns at most. */
export const read_entries_max = 1000;
export const verify_page_entries_max = 5000;

export class LedgerAcceptor extends DurableObject<Env> {
  private readonly store: SqliteAcceptorStore;
  private core: Acceptor | undefined;
  private identity: AcceptorIdentity | undefined;
  /** When the alarm is set to fire (volatile; an eviction forgets it, and setting it again is harmless). */
  private alarmAt_ms: number | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new SqliteAcceptorStore(ctx.storage);
    this.identity = this.store.getSetting<AcceptorIdentity>("identity");
    // A restarted acceptor asks its peers once, so a replica that was down converges without new writes.
    if (this.identity !== undefined) this.armAlarm(restart_probe_ms);
  }

  private acceptor(identity: AcceptorIdentity): Acceptor {
    const known = this.identity;
    if (
      this.core === undefined ||
      known === undefined ||
      known.ledger !== identity.ledger ||
      known.region !== identity.region ||
      known.acceptQuorum !== identity.acceptQuorum ||
      known.regions.join() !== identity.regions.join()
    ) {
      this.store.putSetting("identity", identity);
      this.identity = identity;
      this.core = new Acceptor(this.store, { id: identity.region, acceptQuorum: identity.acceptQuorum });
    }
    return this.core;
  }

  /** One protocol message (Prepare, Accept, Commit, catch-up), handled atomically. */
  handle(identity: AcceptorIdentity, request: AcceptorRequest): AcceptorReply {
    const acceptor = this.acceptor(identity);
    const reply = acceptor.handle(request);
    if (acceptor.needsCatchUp()) this.armAlarm(0);
    else if (request.type === "accept" && acceptor.holdsUnchosen()) this.armAlarm(unchosen_alarm_ms);
    // Anti-entropy: a replica cut off from the proposers (but alive) hears of no gap, so a while after
    // its last message it asks its peers anyway, and converges without waiting for new writes.
    else if (request.type !== "catch_up") this.armAlarm(idle_probe_ms);
    return reply;
  }

  private armAlarm(delay_ms: number): void {
    const at = Date.now() + delay_ms;
    if (this.alarmAt_ms !== undefined && this.alarmAt_ms <= at) return;
    this.alarmAt_ms = at;
    // Not awaited: handle() replies synchronously. The alarm is a storage write, so the output gate
    // still holds the reply until the alarm is durable.
    void this.ctx.storage.setAlarm(at);
  }

  override async alarm(): Promise<void> {
    this.alarmAt_ms = undefined;
    const identity = this.identity;
    if (identity === undefined) return;
    const acceptor = this.acceptor(identity);
    const peers = identity.regions.filter((r) => r !== identity.region);
    let reachedPeers = 0;
    for (let round = 0; round < catch_up_rounds_per_alarm_max; round++) {
      const before = this.store.chosenThrough();
      const request = acceptor.catchUpRequest();
      const replies = await Promise.allSettled(
        peers.map((peer) =>
          this.env.ACCEPTOR.getByName(acceptorName(identity.ledger, peer), { locationHint: peer }).handle(
            { ...identity, region: peer },
            request,
          ),
        ),
      );
      reachedPeers = 0;
      for (const r of replies) {
        if (r.status !== "fulfilled" || r.value.type !== "catch_up_reply") continue;
        reachedPeers++;
        acceptor.learnFromPeer(r.value as CatchUpReply);
      }
      if (!acceptor.needsCatchUp() || this.store.chosenThrough() === before) break;
    }
    if (acceptor.needsCatchUp()) this.armAlarm(gap_retry_ms);
    else if (acceptor.holdsUnchosen()) this.armAlarm(unchosen_alarm_ms);
    else if (reachedPeers === 0 && peers.length > 0) this.armAlarm(unreachable_retry_ms); // ask again later
  }

  /**
   * Benchmark baseline only (the Worker exposes it only with ALLOW_FAULT_INJECTION): the same
   * request applied straight to this one object, no replication, one transaction.
   */
  appendUnreplicated(entries: EntryInput[], proposedAt_ms: number): BatchOutcome {
    return this.store.transaction(() => {
      const slot = this.store.chosenThrough() + 1;
      const value: SlotValue = { kind: "append", proposedAt_ms, batches: [entries] };
      const { outcome, writes } = applySlot(this.store, slot, value);
      this.store.applyWrites(writes);
      this.store.putSlot({ slot, ballot: ballot_zero, value, chosen: true, outcome });
      this.store.setChosenThrough(slot);
      return outcome.batches[0]!;
    });
  }

  // Reads. Each returns the replica's state with its data.

  private state(): ReplicaState {
    return {
      chosenThrough: this.store.chosenThrough(),
      head: this.store.head(),
      highestSlot: this.store.highestSlot(),
    };
  }

  readState(): ReplicaState {
    return this.state();
  }

  status(): ReplicaStatus {
    return { ...this.state(), promised: this.store.promised() };
  }

  readEntries(afterSeq: number, limit: number): { state: ReplicaState; entries: Entry[] } {
    return { state: this.state(), entries: this.store.entriesAfter(afterSeq, Math.min(limit, read_entries_max)) };
  }

  readEntry(seq: number): { state: ReplicaState; entry: Entry | null } {
    return { state: this.state(), entry: this.store.entryBySeq(seq) ?? null };
  }

  readEntryById(id: string): { state: ReplicaState; entry: Entry | null } {
    return { state: this.state(), entry: this.store.entryById(id) ?? null };
  }

  readPositions(account: string): { state: ReplicaState; positions: Position[] } {
    return { state: this.state(), positions: this.store.positionsOf(account) };
  }

  /** Recomputes one page of the hash chain from `afterSeq`, whose hash the caller passes in. */
  verifyPage(afterSeq: number, prevHash: string): VerifyPage {
    const entries = this.store.entriesAfter(afterSeq, verify_page_entries_max);
    let prev = prevHash;
    let seq = afterSeq;
    for (const e of entries) {
      const { hash, ...unhashed } = e;
      if (e.seq !== seq + 1 || e.prevHash !== prev || entryHash(prev, unhashed) !== hash) {
        return { checked: e.seq - afterSeq - 1, lastSeq: seq, lastHash: prev, brokenAt: e.seq };
      }
      prev = hash;
      seq = e.seq;
    }
    return { checked: entries.length, lastSeq: seq, lastHash: prev };
  }
}
