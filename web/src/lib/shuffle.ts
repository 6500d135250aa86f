// Shuffling with an injectable random source, so a test can pin the exact permutation.

/** A source of numbers in [0, 1), like `Math.random`. */
export type Rng = () => number;

/**
 * A uniformly shuffled copy of `items` (Fisher–Yates: from the last position down, swap each
 * with a position at or before it). `rng` must return numbers in [0, 1); a stray 1 is treated
 * as just below 1. The input is not changed.
 */
export function shuffle<T>(items: readonly T[], rng: Rng = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng() * (i + 1)));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
