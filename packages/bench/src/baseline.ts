import { readFile, writeFile } from 'node:fs/promises';
import type { BenchResult } from './run-bench.js';

/** A run kept as the yardstick for `pnpm bench:check`. */
export interface Baseline {
  /** The bench arguments it was measured with; a check must be run with the same. */
  args: string[];
  /** Allowed slack, as a fraction: 0.3 lets throughput drop and latency or memory grow by 30 %. */
  tolerance: number;
  /** The figures compared (the rest of the run is kept for the record). */
  result: Pick<BenchResult, 'orders' | 'ordersPerSecond' | 'latencyMs' | 'peakRssMb'> & Partial<BenchResult>;
  note?: string;
}

/** Latency percentiles below this many ms are within timer noise: a p99 of 40 ms "growing" to 60 ms is not a regression. */
const LATENCY_FLOOR_MS = 50;
/** Likewise for memory: a few MiB either way is the garbage collector's mood. */
const MEMORY_FLOOR_MB = 16;
/** And for CPU per order: a tenth of a millisecond either way is clock-tick granularity. */
const CPU_FLOOR_MS = 0.1;

/**
 * What in `run` is worse than `baseline` beyond its tolerance; empty when the run holds up. Lost
 * orders and a failed audit are always failures, whatever the baseline says.
 */
export function compareWithBaseline(run: BenchResult, baseline: Baseline): string[] {
  const findings: string[] = [];
  const slack = baseline.tolerance;
  const base = baseline.result;
  if (run.delivered !== run.orders) findings.push(`only ${run.delivered} of ${run.orders} orders were delivered`);
  if (!run.auditOk) findings.push('the stock audit failed');
  if (run.orders !== base.orders) findings.push(`ran ${run.orders} orders, the baseline ${base.orders}: not comparable`);

  const minimumRate = base.ordersPerSecond * (1 - slack);
  if (run.ordersPerSecond < minimumRate) {
    findings.push(
      `throughput ${run.ordersPerSecond} orders/s is below ${minimumRate.toFixed(1)} ` +
        `(baseline ${base.ordersPerSecond} − ${pct(slack)})`,
    );
  }
  for (const percentile of ['p50', 'p99'] as const) {
    const ceiling = Math.max(base.latencyMs[percentile] * (1 + slack), LATENCY_FLOOR_MS);
    if (run.latencyMs[percentile] > ceiling) {
      findings.push(
        `latency ${percentile} ${run.latencyMs[percentile]} ms is above ${Math.round(ceiling)} ms ` +
          `(baseline ${base.latencyMs[percentile]} ms + ${pct(slack)})`,
      );
    }
  }
  for (const [service, peak] of Object.entries(run.peakRssMb)) {
    const basePeak = base.peakRssMb[service];
    if (basePeak === undefined) continue;
    const ceiling = Math.max(basePeak * (1 + slack), basePeak + MEMORY_FLOOR_MB);
    if (peak > ceiling) {
      findings.push(`${service} peaked at ${peak} MB, above ${Math.round(ceiling)} MB (baseline ${basePeak} MB + ${pct(slack)})`);
    }
  }
  const baseCpu = base.cpuMsPerOrder?.stack;
  if (baseCpu !== undefined && run.cpuMsPerOrder !== undefined) {
    const ceiling = Math.max(baseCpu * (1 + slack), baseCpu + CPU_FLOOR_MS);
    if (run.cpuMsPerOrder.stack > ceiling) {
      findings.push(
        `the stack spent ${run.cpuMsPerOrder.stack} ms of CPU per order, above ${ceiling.toFixed(2)} ms ` +
          `(baseline ${baseCpu} ms + ${pct(slack)})`,
      );
    }
  }
  return findings;
}

export async function readBaseline(path: string): Promise<Baseline> {
  return JSON.parse(await readFile(path, 'utf8')) as Baseline;
}

export async function writeBaseline(path: string, baseline: Baseline): Promise<void> {
  await writeFile(path, `${JSON.stringify(baseline, null, 2)}\n`);
}

function pct(fraction: number): string {
  return `${Math.round(fraction * 100)} %`;
}
