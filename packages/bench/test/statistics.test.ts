import { describe, expect, it } from 'vitest';
import { median, percentiles } from '../src/statistics.js';

describe('statistics', () => {
  it('when latencies are summarized, then each percentile is a latency some order actually had (nearest rank)', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentiles(values)).toEqual({ p50: 50, p95: 95, p99: 99 });
    expect(percentiles([7])).toEqual({ p50: 7, p95: 7, p99: 7 });
    expect(percentiles([])).toEqual({ p50: 0, p95: 0, p99: 0 });
  });

  it('when three runs are compared, then the median is the middle one', () => {
    expect(median([900, 1_100, 1_000])).toBe(1_000);
    expect(median([3, 1])).toBe(1);
  });
});
