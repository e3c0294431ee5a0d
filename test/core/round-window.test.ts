/**
 * The window of group rounds in flight (`round-window.ts`): open at the bound while rounds take about
 * the fastest round's time, halved when their moving average grows past `round_window_slow_factor`
 * times it or a round fails, and grown back by one per window's worth of fast rounds.
 */
import { describe, expect, test } from "vitest";
import { limits } from "../../src/core/limits.js";
import { RoundWindow } from "../../src/core/proposer/round-window.js";

const max = 16;
const base_ms = 100;

describe("round window", () => {
  test("opens at the bound and stays open while rounds take about the fastest one's time", () => {
    const w = new RoundWindow(max, limits);
    expect(w.allowed).toBe(max);
    for (let i = 0; i < 200; i++) w.roundEnded(base_ms * (1 + (i % 5) / 20), true); // within 1.2
    expect(w.allowed).toBe(max);
  });

  test("halves while rounds run slow, down to one round at a time, never below", () => {
    const w = new RoundWindow(max, limits);
    w.roundEnded(base_ms, true);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) {
      w.roundEnded(4 * base_ms, true);
      seen.push(w.allowed);
    }
    expect(seen.slice(0, 4)).toEqual([8, 4, 2, 1]);
    expect(Math.min(...seen)).toBe(1);
  });

  test("a failed round halves it at once", () => {
    const w = new RoundWindow(max, limits);
    w.roundEnded(base_ms, false);
    expect(w.allowed).toBe(max / 2);
  });

  test("grows back by about one per window's worth of fast rounds", () => {
    const w = new RoundWindow(max, limits);
    w.roundEnded(base_ms, true);
    for (let i = 0; i < 20; i++) w.roundEnded(4 * base_ms, true);
    expect(w.allowed).toBe(1);
    // Fast again: the moving average comes down first, then the window grows one at a time.
    let rounds = 0;
    while (w.allowed < 4 && rounds < 1000) {
      w.roundEnded(base_ms, true);
      rounds++;
    }
    expect(w.allowed).toBe(4);
    // The average needs a few fast rounds to come down from 4x; then 1 -> 2 takes one round, 2 -> 3
    // two, 3 -> 4 three: one per window's worth of rounds.
    expect(rounds).toBeGreaterThanOrEqual(6);
    expect(rounds).toBeLessThan(20);
  });

  test("from 2, each step up takes as many fast rounds as the window is wide", () => {
    const w = new RoundWindow(max, limits);
    w.roundEnded(base_ms, true);
    for (let i = 0; i < 20; i++) w.roundEnded(4 * base_ms, true);
    while (w.allowed < 2) w.roundEnded(base_ms, true);
    const steps: number[] = [];
    let rounds = 0;
    while (w.allowed < 5) {
      const before = w.allowed;
      w.roundEnded(base_ms, true);
      rounds++;
      if (w.allowed > before) {
        steps.push(rounds);
        rounds = 0;
      }
    }
    expect(steps).toEqual([2, 3, 4]);
  });

  test("a window of no rounds, or of part of one, is refused", () => {
    expect(() => new RoundWindow(0, limits)).toThrow(/at least one round/);
    expect(() => new RoundWindow(1.5, limits)).toThrow(/at least one round/);
  });

  test("one round at a time (a Worker's proposer) never changes", () => {
    const w = new RoundWindow(1, limits);
    for (let i = 0; i < 10; i++) w.roundEnded(i === 5 ? 10 * base_ms : base_ms, i !== 7);
    expect(w.allowed).toBe(1);
  });

  test("the fastest round ages out after round_window_samples rounds", () => {
    const w = new RoundWindow(max, limits);
    w.roundEnded(base_ms, true);
    // Slower rounds, steadily: slow against the old fastest, then the new normal once it has aged out.
    for (let i = 0; i < limits.round_window_samples - 1; i++) w.roundEnded(3 * base_ms, true);
    expect(w.allowed).toBe(1);
    for (let i = 0; i < 200; i++) w.roundEnded(3 * base_ms, true);
    expect(w.allowed).toBeGreaterThan(1);
  });
});
