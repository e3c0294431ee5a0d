/**
 * What the proposer owes one acceptor: the chosen slots it has not been told of (a bare commit), or
 * whose value it never got (its Accept went to others, failed, or was refused). The debt goes out
 * with the next message to that acceptor (`take`), or in a Commit of its own when it is full or no
 * slot was added for `owed_commit_linger_ms`. What a message carried and the acceptor did not
 * acknowledge comes back once (`returnUnacknowledged`): for an acceptor outside the accept quorum
 * that message may be its only news of those slots, and an idle ledger sends no other.
 */
import { assert } from "../assert.js";
import type { Ballot } from "../ballot.js";
import type { CoreLimits } from "../limits.js";
import type { CommitItem } from "../messages.js";
import type { Sabotage } from "../sabotage.js";
import type { SlotValue } from "../slot-value.js";
import type { Timer, Timers } from "./timers.js";

/** Commits taken for one message: per item, its value's bytes (0 for a bare commit) and whether it is owed for the second time. */
export interface OwedCommits {
  readonly items: readonly CommitItem[];
  readonly itemBytes: readonly number[];
  readonly returned: readonly boolean[];
}

export class CommitDebt {
  private items: CommitItem[] = [];
  private itemBytes: number[] = [];
  private returned: boolean[] = [];
  /** Bytes of the values owed (bounded by `owed_commit_bytes_max`). */
  private bytes = 0;

  constructor(
    readonly acceptorId: string,
    private readonly limits: CoreLimits,
    /** The `owed_commit_linger` timer of this acceptor: restarted by every slot owed, cancelled by `take`. */
    private readonly linger: Timer,
    /** Sends a Commit of `owed` alone (it is then no longer owed, unless it comes back unacknowledged). */
    private readonly sendAlone: (owed: OwedCommits) => void,
    private readonly sabotage: Sabotage | undefined,
  ) {}

  /**
   * Records a chosen slot the acceptor has not heard of (with its value when it does not hold it). A
   * full debt goes out at once; otherwise when no slot has been added for `owed_commit_linger_ms`.
   */
  owe(item: CommitItem, bytes: number, returned = false): void {
    const held = this.items.findIndex((c) => c.slot === item.slot);
    if (held >= 0) {
      // Owed already (a lost message's copy). A value replaces a bare commit for the slot: the
      // acceptor turned out not to hold it (its Accept failed after the quorum answered).
      if (this.items[held]!.value !== undefined || item.value === undefined) return;
      this.items[held] = item;
      this.bytes += bytes - this.itemBytes[held]!;
      this.itemBytes[held] = bytes;
    } else {
      this.items.push(item);
      this.itemBytes.push(bytes);
      this.returned.push(returned);
      this.bytes += bytes;
    }
    if (this.items.length >= this.limits.owed_commit_slots_max || this.bytes >= this.limits.owed_commit_bytes_max) {
      this.sendNow();
      return;
    }
    this.linger.start(this.limits.owed_commit_linger_ms, () => this.sendNow());
  }

  /** What the next message to the acceptor carries: no longer owed, unless it comes back unacknowledged. */
  take(): OwedCommits | undefined {
    this.linger.cancel();
    if (this.items.length === 0) return undefined;
    const owed: OwedCommits = { items: this.items, itemBytes: this.itemBytes, returned: this.returned };
    this.items = [];
    this.itemBytes = [];
    this.returned = [];
    this.bytes = 0;
    return owed;
  }

  /** A Commit of the whole debt now (nothing when nothing is owed). */
  sendNow(): void {
    const owed = this.take();
    if (owed !== undefined) this.sendAlone(owed);
  }

  /**
   * The one way back into the debt: the commits of a message that the acceptor did not acknowledge
   * (its call failed, or it was still unanswered when its wait ended), owed again unless they were
   * owed again once already.
   */
  returnUnacknowledged(owed: OwedCommits): void {
    // Stryker disable next-line all: test-only sabotage switch, off in production (checker-catches.test.ts)
    if (this.sabotage === "lost_commits_never_resent") return;
    owed.items.forEach((item, k) => {
      if (!owed.returned[k]) this.owe(item, owed.itemBytes[k]!, true);
    });
  }

  /**
   * Watches a lone Commit of `owed`: when its call fails, or it is not answered within
   * `quorum_timeout_ms` (the `delivery` timer), what it carried is owed again.
   */
  watchDelivery(owed: OwedCommits, reply: Promise<unknown>, delivery: Timer): void {
    let settled = false;
    const lost = () => {
      if (settled) return;
      settled = true;
      this.returnUnacknowledged(owed);
    };
    reply.then(
      () => {
        settled = true;
        delivery.cancel();
      },
      () => {
        delivery.cancel();
        lost();
      },
    );
    delivery.start(this.limits.quorum_timeout_ms, lost);
  }
}

/** A chosen slot as phase 2 proposed it: the UTF-8 size of its value bounds what is owed. */
export interface ChosenSlot {
  readonly slot: number;
  readonly value: SlotValue;
  readonly bytes: number;
}

/** Every acceptor's debt, and the `commit_linger` timer of the last chosen chunk's commits. */
export class CommitDebts {
  private readonly debts = new Map<string, CommitDebt>();
  /** The commits of the last chosen chunk wait for the next Accept to carry them (`commit_linger_ms`). */
  private readonly commitLinger: Timer;

  constructor(
    acceptorIds: readonly string[],
    private readonly limits: CoreLimits,
    timers: Timers,
    sendAlone: (id: string, owed: OwedCommits) => void,
    private readonly sabotage: Sabotage | undefined,
  ) {
    this.commitLinger = timers.timer("commit_linger", { keptAlive: true });
    for (const id of acceptorIds) {
      const linger = timers.timer("owed_commit_linger", { keptAlive: true });
      this.debts.set(id, new CommitDebt(id, limits, linger, (owed) => sendAlone(id, owed), sabotage));
    }
  }

  of(id: string): CommitDebt {
    const debt = this.debts.get(id);
    assert(debt !== undefined, "a debt per acceptor");
    return debt;
  }

  /** An Accept is going out: it carries the pending commits, so they need no Commit of their own. */
  acceptSent(): void {
    this.commitLinger.cancel();
  }

  /**
   * `slots` were chosen at `ballot`: every acceptor is owed their commit, carried by the next message
   * to it (the next Accept, or a Commit after a linger). One that does not hold the values (`holds`
   * false: not sent the Accept, or it failed or refused it) is owed the values: a bare commit would
   * leave it a gap. Under load the next slot's Accept follows at once and carries the commits; when
   * the ledger goes idle, the acceptors in `sentTo` get them alone after `commit_linger_ms`, the
   * others on their own (longer) linger.
   */
  oweChosen(
    slots: readonly ChosenSlot[],
    ballot: Ballot,
    holds: (id: string) => boolean,
    sentTo: ReadonlySet<string>,
  ): void {
    for (const [id, debt] of this.debts) {
      if (!holds(id)) this.oweValues(id, slots, ballot);
      else for (const { slot } of slots) debt.owe({ slot, ballot }, 0);
    }
    this.commitLinger.start(this.limits.commit_linger_ms, () => {
      for (const id of sentTo) this.of(id).sendNow();
    });
  }

  /** `id` does not hold these chosen slots' values (its Accept went elsewhere, failed or was refused). */
  oweValues(id: string, slots: readonly ChosenSlot[], ballot: Ballot): void {
    // Stryker disable next-line all: test-only sabotage switch, off in production (checker-catches.test.ts)
    if (this.sabotage === "owed_values_dropped") return;
    for (const { slot, value, bytes } of slots) this.of(id).owe({ slot, ballot, value }, bytes);
  }
}
