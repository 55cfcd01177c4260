import { describe, expect, it } from 'vitest';
import { compareWithBaseline, type Baseline } from '../src/baseline.js';
import type { BenchResult } from '../src/run-bench.js';

const run = (overrides: Partial<BenchResult> = {}): BenchResult => ({
  mode: 'burst',
  orders: 10_000,
  delivered: 10_000,
  seconds: 10,
  ordersPerSecond: 1_000,
  latencyMs: { p50: 5_000, p95: 9_000, p99: 9_500, max: 9_900 },
  placeMs: { p50: 100, p95: 200, p99: 250 },
  stagesMs: {},
  marketCalls: 25_000,
  marketUnitsSold: 45_000,
  auditOk: true,
  peakRssMb: { orders: 150, 'kitchen-1': 150, 'inventory-1': 160 },
  cpuSeconds: {},
  machineCpu: { busyCpuSeconds: 18, postgresCpuSeconds: 6, postgresWakeups: 50_000, redisCpuSeconds: 1, redisWakeups: 20_000, benchCpuSeconds: 2, seconds: 10 },
  cpuMsPerOrder: { stack: 1.4, machine: 1.8, perProcess: {} },
  wakeupsPerOrder: { stack: 12, perProcess: {} },
  transactionsPerOrder: 0.5,
  settings: { kitchens: 1, inventories: 1, marketLatencyMs: 0, cookTimeMs: 0, warmupS: 3, serviceEnv: {} },
  machine: { cpus: 2, loadAverage1m: 2 },
  at: '2026-01-01T00:00:00.000Z',
  ...overrides,
});
const baseline: Baseline = { args: ['--orders', '10000'], tolerance: 0.3, result: run() };

describe('comparing a run with the baseline', () => {
  it('when a run is within the tolerance, then nothing is reported', () => {
    expect(compareWithBaseline(run({ ordersPerSecond: 750, peakRssMb: { orders: 190 } }), baseline)).toEqual([]);
  });

  it('when throughput drops, latency or memory grow beyond the tolerance, then each regression is named', () => {
    const findings = compareWithBaseline(
      run({ ordersPerSecond: 600, latencyMs: { p50: 8_000, p95: 9_000, p99: 9_500, max: 9_900 }, peakRssMb: { orders: 260 } }),
      baseline,
    );
    expect(findings).toHaveLength(3);
    expect(findings.join('\n')).toMatch(/throughput 600/);
    expect(findings.join('\n')).toMatch(/latency p50 8000/);
    expect(findings.join('\n')).toMatch(/orders peaked at 260 MB/);
  });

  it('when the stack spends more CPU per order beyond the tolerance, then that is named; a baseline without the figure checks nothing', () => {
    const costly = run({ cpuMsPerOrder: { stack: 2.1, machine: 2.5, perProcess: {} } });
    expect(compareWithBaseline(costly, baseline)).toEqual([
      'the stack spent 2.1 ms of CPU per order, above 1.82 ms (baseline 1.4 ms + 30 %)',
    ]);
    const { cpuMsPerOrder: _, ...older } = baseline.result;
    expect(compareWithBaseline(costly, { ...baseline, result: older })).toEqual([]);
  });

  it('when orders are lost or the audit fails, then the check fails whatever the figures', () => {
    const findings = compareWithBaseline(run({ delivered: 9_999, auditOk: false, ordersPerSecond: 5_000 }), baseline);
    expect(findings).toEqual(['only 9999 of 10000 orders were delivered', 'the stock audit failed']);
  });
});
