/**
 * Mencius' slot map: which proposer owns (may send the ballot-0 value of) each slot, in windows of
 * W slots dealt round-robin. Its own file because every part asks it, and the sabotage that gives
 * each window two owners lives here.
 */

/** The slot map: who may send ballot-0 values for a slot. */
export class Ownership {
  constructor(
    readonly owners: number,
    readonly window_slots: number,
    private readonly overlapping: boolean,
  ) {}

  ownerOf(slot: number): number {
    return Math.floor(slot / this.window_slots) % this.owners;
  }

  owns(p: number, slot: number): boolean {
    const o = this.ownerOf(slot);
    return o === p || (this.overlapping && this.owners > 1 && o === (p + 1) % this.owners);
  }

  /** The first slot >= `from` that `p` owns (at most `owners` windows away). */
  nextOwn(p: number, from: number): number {
    let window = Math.floor(from / this.window_slots);
    for (let i = 0; i <= this.owners; i++, window++) {
      const start = window * this.window_slots;
      if (this.owns(p, start)) return Math.max(from, start);
    }
    throw new Error(`mencius: proposer ${p} owns no window after slot ${from}`);
  }
}
