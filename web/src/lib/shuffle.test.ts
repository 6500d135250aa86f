import { describe, expect, it } from "vitest";
import { shuffle } from "./shuffle";

/** Returns the given numbers in turn (and fails the test if asked for more). */
function sequence(...values: number[]) {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error("rng called too often");
    return values[i++];
  };
}

/** mulberry32: a small seeded generator, so the frequency test is the same on every run. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("shuffle", () => {
  it("is Fisher–Yates: draws pick the swap partner from the top down", () => {
    // i=3: j=floor(0.5*4)=2 → a b d c; i=2: j=floor(0*3)=0 → d b a c; i=1: j=floor(0.9*2)=1.
    expect(shuffle(["a", "b", "c", "d"], sequence(0.5, 0, 0.9))).toEqual(["d", "b", "a", "c"]);
    // Always the top of the range: nothing moves; always 0: each position swaps with the first.
    expect(shuffle([1, 2, 3, 4], sequence(0.99, 0.99, 0.99))).toEqual([1, 2, 3, 4]);
    expect(shuffle([1, 2, 3, 4], sequence(0, 0, 0))).toEqual([2, 3, 4, 1]);
  });

  it("draws once per position after the first and leaves the input alone", () => {
    const input = Object.freeze([1, 2, 3]);
    let calls = 0;
    const out = shuffle(input, () => (calls++, 0.4));
    expect(calls).toBe(2);
    expect(input).toEqual([1, 2, 3]);
    expect([...out].sort()).toEqual([1, 2, 3]);
    expect(shuffle([], sequence())).toEqual([]);
    expect(shuffle(["only"], sequence())).toEqual(["only"]);
  });

  it("keeps a stray 1 from the rng in range", () => {
    expect(shuffle(["a", "b"], sequence(1))).toEqual(["a", "b"]);
  });

  it("makes every order about equally often (no bias toward or away from the start)", () => {
    const rng = seeded(42);
    const counts = new Map<string, number>();
    const runs = 12_000;
    for (let n = 0; n < runs; n++) {
      const k = shuffle(["a", "b", "c"], rng).join("");
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    // All 6 orders (a cyclic-only shuffle would never give "abc"), each near 2000.
    expect([...counts.keys()].sort()).toEqual(["abc", "acb", "bac", "bca", "cab", "cba"]);
    for (const c of counts.values()) expect(Math.abs(c - runs / 6)).toBeLessThan(200);
  });
});
