/**
 * A seeded pseudo-random source (mulberry32): the same seed gives the same numbers, so a test that
 * needs randomness (ephemeral ports, hash keys) is still reproducible. Not for anything secret.
 */
import type { Random } from './env.js';

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return {
    nextU32(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    },
  };
}
