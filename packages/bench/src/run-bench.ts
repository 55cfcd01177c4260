import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OrderSummaryItem } from '@free-lunch/contracts';
import { BenchStack, type BenchStackOptions } from './bench-stack.js';
import { plannedOrders, warmupPlan, type LoadPlan } from './load-plan.js';
import { placeOrders } from './order-placer.js';
import { ProcessSampler, type MachineUsage } from './process-sampler.js';
import { medianBy, percentiles, round, type Percentiles } from './statistics.js';

/** Everything one run is made of. */
export interface BenchSettings extends Omit<BenchStackOptions, 'log'> {
  load: LoadPlan;
  /** The run fails once it has taken this long in all, stack start included. */
  timeoutS: number;
  /** Seconds of load before the measured offer (see {@link warmupPlan}); 0 for none. */
  warmupS: number;
  /** After the orders, this many seconds with none, to measure what the idle stack costs; 0 for none. */
  idleS: number;
}

/** What the run measured; `--json` prints exactly this. */
export interface BenchResult {
  mode: LoadPlan['mode'];
  /** Orders placed. */
  orders: number;
  /** Of those, delivered by the end of the run. */
  delivered: number;
  /** From the first POST until the last order was delivered (the orders service's record of it). */
  seconds: number;
  /** orders ÷ seconds. */
  ordersPerSecond: number;
  /** Per order, from placed (createdAt) to delivered as the orders service recorded it (updatedAt). */
  latencyMs: Percentiles & { max: number };
  /** Response time of POST /orders. */
  placeMs: Percentiles;
  /**
   * Where the latency goes: per status reached, the time since the status before it, from each
   * order's timeline (`awaiting_ingredients`: placed → the kitchen chose a recipe and asked for its
   * ingredients; `cooking`: → every ingredient arrived; `delivered`: → cooked and delivered).
   */
  stagesMs: Record<string, Percentiles>;
  /** Farmers' market calls during the run, from the simulator's /stats. */
  marketCalls: number;
  marketUnitsSold: number;
  auditOk: boolean;
  /** Highest resident memory of each process while the orders went through, MiB. */
  peakRssMb: Record<string, number>;
  /** CPU time each process used over the same window, seconds; `postgres` is the run's database backends. */
  cpuSeconds: Record<string, number>;
  /** The whole machine over the window: what the stack could use, and how busy it was (others' work included). */
  machineCpu: MachineUsage;
  /**
   * CPU milliseconds per order placed, over the same window: `stack` is the services, their
   * PostgreSQL backends and the Redis server together (not the market simulator, not the load
   * generator); `machine` is everything the machine did, the benchmark's own load included;
   * `perProcess` each of `cpuSeconds` alone.
   */
  cpuMsPerOrder: { stack: number; machine: number; perProcess: Record<string, number> };
  /**
   * Wake-ups per order placed, over the same window: how often the main thread of each process of
   * the stack (its PostgreSQL backends together) went to sleep and was woken. On a virtual machine a
   * process woken from a long sleep with new work costs far more CPU than one in the middle of work
   * (one woken after waiting on the disk costs little), so at everyday rates CPU per order follows
   * the count of the first kind (docs/performance.md).
   */
  wakeupsPerOrder: { stack: number; perProcess: Record<string, number> };
  /**
   * With `--idle`: the stack left alone for `seconds` (after {@link IDLE_SETTLE_MS}) — the CPU it
   * used, as a percentage of one core: all of it (services, their PostgreSQL backends, the Redis
   * server) and per process.
   */
  idle?: { seconds: number; percentOfOneCore: { stack: number; perProcess: Record<string, number> } };
  /** PostgreSQL transactions of the run's database per order placed, every service together (the window's, about). */
  transactionsPerOrder: number;
  settings: {
    kitchens: number;
    inventories: number;
    marketLatencyMs: number;
    cookTimeMs: number;
    rate?: number;
    durationS?: number;
    intervalMs?: number;
    /** Seconds of warm-up load before the measured orders (not counted in the figures). */
    warmupS: number;
    serviceEnv: Record<string, string>;
  };
  machine: { cpus: number; loadAverage1m: number };
  at: string;
  /**
   * With `--runs N` (N > 1): the key figures of every run, in the order run. The rest of the result
   * is the median run's: by throughput for a burst, by p99 latency for a steady run.
   */
  runs?: Array<{ ordersPerSecond: number; latencyMs: Percentiles; auditOk: boolean }>;
}

/** The figure `--runs` takes the median of: throughput for a burst, p99 latency for a steady run. */
export function medianRunOf(results: readonly BenchResult[]): BenchResult {
  const median =
    results[0]?.mode === 'steady'
      ? medianBy(results, (run) => run.latencyMs.p99)
      : medianBy(results, (run) => run.ordersPerSecond);
  return {
    ...median,
    runs: results.map(({ ordersPerSecond, latencyMs: { p50, p95, p99 }, auditOk }) => ({
      ordersPerSecond,
      latencyMs: { p50, p95, p99 },
      auditOk,
    })),
  };
}

export interface BenchHooks {
  log: (line: string) => void;
  /** Progress while orders go through: how many are placed and delivered of the planned total. */
  progress: {
    start(total: number, label: string): void;
    update(values: { placed: number; delivered: number }): void;
    stop(): void;
  };
  /** Aborting (Ctrl-C) stops the run; the stack is taken down all the same. */
  signal: AbortSignal;
  /** Called with the stack once it exists, so a second Ctrl-C can kill it outright. */
  onStack?(stack: BenchStack): void;
}

export class BenchFailure extends Error {
  override name = 'BenchFailure';
}

/** Long enough for every PostgreSQL backend to have reported its transaction counts (they do at most once a second). */
const STATS_SETTLE_MS = 1_200;

/** How often the run looks at GET /orders/summary: progress and "all delivered", never per order. */
const SUMMARY_INTERVAL_MS = 200;

/**
 * One benchmark run: starts an isolated stack, places the orders over the public API, follows them
 * to delivered by polling the counts, then reads every order once (paged) for the latencies, checks
 * the audit and takes the stack down — also when the run fails, times out or is interrupted.
 */
export async function runBench(settings: BenchSettings, hooks: BenchHooks): Promise<BenchResult> {
  const timeout = AbortSignal.timeout(settings.timeoutS * 1000);
  const signal = AbortSignal.any([hooks.signal, timeout]);
  const stack = new BenchStack({ ...settings, log: hooks.log });
  hooks.onStack?.(stack);
  const describeAbort = (progress: string) =>
    timeout.aborted
      ? new BenchFailure(`the run did not finish within its ${settings.timeoutS} s limit (--timeout): ${progress}`)
      : new BenchFailure(`interrupted: ${progress}`);

  let progressShown = false;
  try {
    hooks.log(
      `starting an isolated stack (database ${stack.databaseName}, Redis prefix ${stack.keyPrefix}, ` +
        `${settings.kitchens} kitchen(s), ${settings.inventories} inventory(ies))…`,
    );
    await abortable(stack.start(), signal, () => describeAbort('while the stack was starting'));
    const { client } = stack;
    const api = { ordersUrl: client.urls.orders, managerToken: stack.managerToken, maxPerRequest: settings.maxOrderQuantity };

    /** Places `plan` and follows it until every one of its orders is delivered, showing progress. */
    const offer = async (plan: LoadPlan, label: string) => {
      const total = plannedOrders(plan);
      const deliveredBefore = (await client.summary()).delivered;
      hooks.progress.start(total, label);
      progressShown = true;
      let placed = 0;
      let delivered = 0;
      const placing = placeOrders(plan, api, { signal, onPlaced: (count) => (placed += count) });
      let placingDone = false;
      let placingFailed: { error: unknown } | undefined;
      placing.then(
        () => (placingDone = true),
        (error: unknown) => {
          placingDone = true;
          placingFailed = { error };
        },
      );
      while (!(placingDone && delivered >= total)) {
        if (placingFailed) throw placingFailed.error;
        if (signal.aborted) throw describeAbort(`${label}: ${delivered} of ${total} orders delivered, ${placed} placed`);
        delivered = (await client.summary()).delivered - deliveredBefore;
        hooks.progress.update({ placed, delivered });
        if (!(placingDone && delivered >= total)) await sleep(SUMMARY_INTERVAL_MS, undefined, { signal }).catch(() => {});
      }
      hooks.progress.stop();
      progressShown = false;
      return placing;
    };

    // Cold processes are slow for their first seconds (JIT, pools, connections); a short warm-up
    // at a modest rate keeps that out of the figures. Its orders are audited with the rest.
    const warmup = warmupPlan(settings);
    if (warmup) await offer(warmup, 'warm-up');

    await fetch(`${stack.marketUrl}/reset-stats`, { method: 'POST' });
    const sampler = new ProcessSampler(stack.pids(), stack.databaseName);
    const transactionsBefore = await stack.transactions();
    sampler.start();
    const placement = await offer(settings.load, settings.load.mode);
    sampler.stop();
    // Backends report their counts when idle, at most once a second.
    await sleep(STATS_SETTLE_MS);
    const transactions = (await stack.transactions()) - transactionsBefore;

    const deliveredOrders = await client.allOrders('delivered');
    const stages = await stack.stageDurations(placement.orderIds);
    const audit = await client.audit();
    const market = (await (await fetch(`${stack.marketUrl}/stats`)).json()) as {
      totals: { calls: number; unitsSold: number };
    };
    const result = summarize(settings, placement, deliveredOrders, {
      auditOk: audit.ok,
      market: market.totals,
      usage: sampler.usage(),
      machine: sampler.machine(),
      stages,
      transactions,
    });
    const missing = placement.orderIds.length - result.delivered;
    if (missing !== 0) throw new BenchFailure(`${missing} placed orders are not among the delivered ones`);
    if (settings.idleS > 0) {
      hooks.log(`measuring the idle stack for ${settings.idleS} s…`);
      await sleep(IDLE_SETTLE_MS, undefined, { signal });
      const idle = new ProcessSampler(stack.pids(), stack.databaseName, 1_000);
      idle.start();
      await sleep(settings.idleS * 1000, undefined, { signal });
      idle.stop();
      result.idle = idleUsage(idle, settings.idleS);
    }
    return result;
  } catch (error) {
    if (signal.aborted && !(error instanceof BenchFailure)) throw describeAbort('the run was cut short');
    throw error;
  } finally {
    if (progressShown) hooks.progress.stop();
    hooks.log('stopping the stack…');
    await stack.stop();
  }
}

function summarize(
  settings: BenchSettings,
  placement: Awaited<ReturnType<typeof placeOrders>>,
  deliveredOrders: OrderSummaryItem[],
  observed: {
    auditOk: boolean;
    market: { calls: number; unitsSold: number };
    usage: ReturnType<ProcessSampler['usage']>;
    machine: MachineUsage;
    stages: Record<string, number[]>;
    transactions: number;
  },
): BenchResult {
  const placedIds = new Set(placement.orderIds);
  const ours = deliveredOrders.filter((order) => placedIds.has(order.id));
  const latencies = ours.map((order) => Date.parse(order.updatedAt) - Date.parse(order.createdAt));
  const lastDeliveredAt = Math.max(...ours.map((order) => Date.parse(order.updatedAt)));
  const seconds = (lastDeliveredAt - placement.startedAt) / 1000;
  const load = settings.load;
  const cpuSeconds: Record<string, number> = {
    ...Object.fromEntries(Object.entries(observed.usage).map(([label, usage]) => [label, usage.cpuSeconds])),
    postgres: observed.machine.postgresCpuSeconds,
    ...(observed.machine.redisCpuSeconds === null ? {} : { redis: observed.machine.redisCpuSeconds }),
    bench: observed.machine.benchCpuSeconds,
  };
  const perOrder = (cpuS: number) => round((1000 * cpuS) / placement.orderIds.length, 2);
  const wakeups: Record<string, number> = {
    ...Object.fromEntries(Object.entries(observed.usage).map(([label, usage]) => [label, usage.wakeups])),
    postgres: observed.machine.postgresWakeups,
    ...(observed.machine.redisWakeups === null ? {} : { redis: observed.machine.redisWakeups }),
  };
  const wakeupsPerOrder = (count: number) => round(count / placement.orderIds.length, 2);
  return {
    mode: load.mode,
    orders: placement.orderIds.length,
    delivered: ours.length,
    seconds: round(seconds, 2),
    ordersPerSecond: round(placement.orderIds.length / seconds),
    latencyMs: { ...percentiles(latencies), max: Math.max(...latencies) },
    placeMs: mapValues(percentiles(placement.requestMs), (ms) => round(ms)),
    stagesMs: Object.fromEntries(
      Object.entries(observed.stages).map(([status, ms]) => [status, mapValues(percentiles(ms), (value) => round(value))]),
    ),
    marketCalls: observed.market.calls,
    marketUnitsSold: observed.market.unitsSold,
    auditOk: observed.auditOk,
    peakRssMb: Object.fromEntries(Object.entries(observed.usage).map(([label, usage]) => [label, usage.peakRssMb])),
    cpuSeconds,
    machineCpu: observed.machine,
    transactionsPerOrder: round(observed.transactions / placement.orderIds.length, 2),
    cpuMsPerOrder: {
      stack: perOrder(stackTotal(cpuSeconds)),
      machine: perOrder(observed.machine.busyCpuSeconds),
      perProcess: mapValues(cpuSeconds, perOrder),
    },
    wakeupsPerOrder: {
      stack: wakeupsPerOrder(stackTotal(wakeups)),
      perProcess: mapValues(wakeups, wakeupsPerOrder),
    },
    settings: {
      kitchens: settings.kitchens,
      inventories: settings.inventories,
      marketLatencyMs: settings.marketLatencyMs,
      cookTimeMs: settings.cookTimeMs,
      warmupS: settings.warmupS,
      ...(load.mode === 'steady' ? { rate: load.rate, durationS: load.durationS, intervalMs: load.intervalMs } : {}),
      serviceEnv: settings.serviceEnv,
    },
    machine: { cpus: cpus().length, loadAverage1m: round(loadavg()[0] ?? 0, 2) },
    at: new Date().toISOString(),
  };
}

/** Time given to the stack after the orders before its idle use is measured: the last publications, consumers' lingering reads. */
const IDLE_SETTLE_MS = 5_000;

function idleUsage(sampler: ProcessSampler, seconds: number): NonNullable<BenchResult['idle']> {
  const machine = sampler.machine();
  const cpuSeconds: Record<string, number> = {
    ...Object.fromEntries(Object.entries(sampler.usage()).map(([label, usage]) => [label, usage.cpuSeconds])),
    postgres: machine.postgresCpuSeconds,
    ...(machine.redisCpuSeconds === null ? {} : { redis: machine.redisCpuSeconds }),
  };
  const percent = (cpuS: number) => round((100 * cpuS) / seconds, 2);
  const stack = stackTotal(cpuSeconds);
  return { seconds, percentOfOneCore: { stack: percent(stack), perProcess: mapValues(cpuSeconds, percent) } };
}

/** The sum over the stack's processes (the services, PostgreSQL, Redis): not the market simulator, not the load generator. */
function stackTotal(perProcess: Record<string, number>): number {
  return Object.entries(perProcess).reduce((sum, [label, value]) => (label === 'market' || label === 'bench' ? sum : sum + value), 0);
}

function mapValues<T extends object>(object: T, map: (value: number) => number): T {
  return Object.fromEntries(Object.entries(object).map(([key, value]) => [key, map(value as number)])) as T;
}

/** `work`, unless `signal` aborts first, in which case the error `reason()` makes. */
async function abortable<T>(work: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  if (signal.aborted) throw reason();
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
