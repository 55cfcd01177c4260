/** p50, p95 and p99 of a set of durations, in milliseconds. */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/**
 * The nearest-rank percentiles of `values` (any order): the smallest value at or above which
 * `p` per cent of the values lie. Nearest-rank, not interpolated, so every figure reported is a
 * latency some order actually had. All zero for an empty set.
 */
export function percentiles(values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: 0, p95: 0, p99: 0 };
  const sorted = Float64Array.from(values).sort();
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: rank(50), p95: rank(95), p99: rank(99) };
}

/** Rounds to `digits` decimals, for figures meant to be read. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** The middle value (the lower middle for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/**
 * Of several runs, the one whose `key` is the median (the lower middle for an even count): a
 * whole run, so every figure reported beside it comes from that same run.
 */
export function medianBy<T>(runs: readonly T[], key: (run: T) => number): T {
  if (runs.length === 0) throw new Error('no runs');
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
