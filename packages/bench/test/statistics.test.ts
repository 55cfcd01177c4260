import { describe, expect, it } from 'vitest';
import { medianRunOf, type BenchResult } from '../src/run-bench.js';
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

  it('when a burst is run three times, then the result is the whole median run by throughput, listing every run', () => {
    const runs = [run('burst', 900, 300), run('burst', 1_200, 500), run('burst', 1_000, 100)];

    const result = medianRunOf(runs);

    expect(result.ordersPerSecond).toBe(1_000);
    expect(result.latencyMs.p99).toBe(100); // the same run's latency, not the median of latencies
    expect(result.runs!.map((r) => r.ordersPerSecond)).toEqual([900, 1_200, 1_000]);
  });

  it('when a steady rate is run three times, then the median run is the one with the median p99', () => {
    const runs = [run('steady', 500, 640), run('steady', 499, 250), run('steady', 498, 410)];

    expect(medianRunOf(runs).latencyMs.p99).toBe(410);
  });
});

function run(mode: BenchResult['mode'], ordersPerSecond: number, p99: number): BenchResult {
  return { mode, ordersPerSecond, latencyMs: { p50: p99 / 2, p95: p99, p99, max: p99 }, auditOk: true } as BenchResult;
}
