import { randomInt } from 'node:crypto';

/** A source of numbers uniform in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * A seeded random source (mulberry32): the same seed gives the same sequence, so a test or a
 * benchmark run can be replayed exactly. Not for anything secret.
 */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A seed for runs that did not ask for one; every unseeded simulator behaves differently. */
export function freshSeed(): number {
  return randomInt(0, 0xffff_ffff);
}

/** A whole number uniform in min..max, both included. */
export function wholeNumberBetween(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
