import type { BenchResult } from './run-bench.js';

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** The run as a person reads it. */
export function formatSummary(result: BenchResult): string {
  const { settings } = result;
  const load =
    result.mode === 'burst'
      ? `burst of ${number.format(result.orders)} orders`
      : `steady ${number.format(settings.rate!)} orders/s for ${settings.durationS} s (a request every ${settings.intervalMs} ms)`;
  const warmup = settings.warmupS > 0 ? `after a ${settings.warmupS} s warm-up` : 'no warm-up';
  const market = settings.marketLatencyMs === 0 ? 'instant market' : `market latency ${settings.marketLatencyMs} ms`;
  const env = Object.entries(settings.serviceEnv).map(([name, value]) => `${name}=${value}`);
  const perProcess = (values: Record<string, number>) =>
    Object.entries(values)
      .map(([label, value]) => `${label} ${number.format(value)}`)
      .join(', ');
  const latency = result.latencyMs;
  return [
    '',
    `Free Lunch benchmark: ${load} (${warmup}); ${settings.kitchens} kitchen(s), ${settings.inventories} inventory(ies); ` +
      `${market}; cook time ${settings.cookTimeMs} ms${env.length > 0 ? `; ${env.join(' ')}` : ''}`,
    `  delivered        ${number.format(result.delivered)} of ${number.format(result.orders)} in ${result.seconds} s` +
      `  →  ${number.format(result.ordersPerSecond)} orders/s`,
    `  latency          p50 ${ms(latency.p50)}   p95 ${ms(latency.p95)}   p99 ${ms(latency.p99)}   max ${ms(latency.max)}` +
      '   (placed → delivered)',
    `  POST /orders     p50 ${ms(result.placeMs.p50)}   p95 ${ms(result.placeMs.p95)}   p99 ${ms(result.placeMs.p99)}`,
 ...Object.entries(result.stagesMs).map(
      ([status, stage]) => `  → ${status.padEnd(21)}p50 ${ms(stage.p50)}   p95 ${ms(stage.p95)}   p99 ${ms(stage.p99)}`,
    ),
    `  market calls     ${number.format(result.marketCalls)} (${number.format(result.marketUnitsSold)} units sold)`,
    `  stock audit      ${result.auditOk ? 'ok' : 'FAILED'}`,
    `  peak RSS (MB)    ${perProcess(result.peakRssMb)}`,
    `  CPU (s)          ${perProcess(result.cpuSeconds)}`,
    `  CPU per order    ${msPrecise(result.cpuMsPerOrder.stack)} for the stack (services, PostgreSQL, Redis); ` +
      `${msPrecise(result.cpuMsPerOrder.machine)} for the whole machine; ` +
      `${number.format(result.transactionsPerOrder)} PostgreSQL transactions per order`,
    `  wake-ups/order   ${number.format(result.wakeupsPerOrder.stack)} for the stack (${perProcess(result.wakeupsPerOrder.perProcess)})`,
    `  machine          ${result.machine.cpus} cores, ${busyShare(result)} busy during the run (everything on it, ` +
      `the benchmark's own stack included); load average ${result.machine.loadAverage1m} at the end`,
    ...(result.idle
      ? [
          `  idle             ${number.format(result.idle.percentOfOneCore.stack)} % of one core for the stack over ${result.idle.seconds} s ` +
            `without orders (${perProcess(result.idle.percentOfOneCore.perProcess)})`,
        ]
      : []),
    ...(result.runs ? [runsLine(result)] : []),
  ].join('\n');
}

/** Every run's key figure; the figures above are the median run's. */
function runsLine(result: BenchResult): string {
  const runs = result.runs!;
  const figures =
    result.mode === 'steady'
      ? runs.map((run) => `p99 ${ms(run.latencyMs.p99)}`)
      : runs.map((run) => `${number.format(run.ordersPerSecond)} orders/s`);
  return `  runs             ${figures.join(' · ')}  (the figures above are the median run's, of ${runs.length})`;
}

function busyShare(result: BenchResult): string {
  const { busyCpuSeconds, seconds } = result.machineCpu;
  if (seconds === 0) return 'unknown share';
  return `${Math.round((100 * busyCpuSeconds) / (seconds * result.machine.cpus))} %`;
}

function msPrecise(value: number): string {
  return `${value.toFixed(2)} ms`;
}

function ms(value: number): string {
  return `${number.format(Math.round(value))} ms`;
}
