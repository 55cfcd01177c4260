import type { Redis } from 'ioredis';
import type { Books } from './books.js';
import type { ChaosStack } from './chaos-stack.js';
import { marketUnitsSold } from './faults/market.js';
import { countDeadLetters } from './faults/redis.js';
import type { OrderLoad } from './load.js';
import type { ChaosSettings } from './run-chaos.js';
import type { FaultKind, ScheduledFault } from './schedule.js';
import { caughtUpSeconds, judge, recoverySeconds, type OrderTimes } from './verdict.js';

/** A fault as it happened. */
export interface FaultRecord {
  kind: FaultKind;
  target: string;
  /** Seconds after the load started. */
  at: number;
  /** Seconds from its start to its end (a killed process: until its replacement was ready). */
  lastedS: number;
  detail: string;
  /** Seconds from its end until every order placed by then was delivered; null if some never were. */
  recoverySeconds: number | null;
}

/** What the run found; `--json` prints exactly this. */
export interface ChaosResult {
  ok: boolean;
  failures: string[];
  seed: number;
  orders: number;
  delivered: number;
  missing: number;
  /** The missing orders by the status they were left in. */
  missingByStatus: Record<string, number>;
  duplicates: number;
  duplicateKinds: { twoRecipes: number; wrongDispatches: number };
  unexpectedOrders: number;
  unacceptedChunks: number;
  auditOk: boolean;
  /** Units the market says it sold minus the units the warehouse's books say it bought. */
  unitsSoldNotRecorded: number;
  marketUnitsSold: number;
  unitsBought: number;
  deadLetters: { total: number; poison: number; poisonInjected: number; byStream: Record<string, number> };
  faults: FaultRecord[];
  /** Seconds from the last fault's end to the last delivery; null if some order was never delivered. */
  recoverySeconds: number | null;
  recoveryLimitS: number;
  crashes: Array<{ label: string; at: number; exit: string }>;
  load: { chunks: number; retries: number };
  settings: Omit<ChaosSettings, 'databaseUrl' | 'redisUrl'>;
  at: string;
}


/** A fault as the run carried it out. */
export interface Happened {
  fault: ScheduledFault;
  startedAtMs: number;
  endedAtMs: number;
  detail: string;
  poison: number;
}

/** The verdict, out of the services' databases, Redis, the warehouse's audit and the market's count. */
export async function findings(
  settings: ChaosSettings,
  run: {
    stack: ChaosStack;
    books: Books;
    redis: Redis;
    load: OrderLoad;
    happened: Happened[];
    injectionEndMs: number;
    startMs: number;
  },
): Promise<ChaosResult> {
  const { stack, books, redis, load, happened, startMs } = run;
  const deliveries = await books.deliveries();
  const accepted = new Set(load.orderIds);
  const ours: OrderTimes[] = [...accepted].map((id) => ({
    placedAtMs: load.askedAt.get(id)!,
    deliveredAtMs: deliveries.get(id)?.deliveredAtMs ?? null,
  }));
  // Where the missing ones stopped: which service to look at.
  const missingByStatus: Record<string, number> = {};
  for (const id of accepted) {
    const status = deliveries.get(id)?.status ?? 'not in the database';
    if (status !== 'delivered') missingByStatus[status] = (missingByStatus[status] ?? 0) + 1;
  }
  const unexpectedOrders = [...deliveries.keys()].filter((id) => !accepted.has(id)).length;
  const delivered = ours.filter((order) => order.deliveredAtMs !== null).length;
  const duplicates = await books.duplicates();

  const auditOk = await stack.client.audit().then(
    (audit) => audit.ok,
    () => false, // unreadable is not balanced; the report says it failed
  );
  // The market's count against the books only once no warehouse is buying: stopped gracefully, each
  // records what its round bought, and no sale is in flight between the two counts.
  await stack.stopAll('inventory');
  const marketSold = await marketUnitsSold(stack.marketUrl);
  const unitsBought = await books.unitsBought();
  const deadLetters = await countDeadLetters(redis, stack.keyPrefix);
  const poisonInjected = happened.reduce((sum, entry) => sum + entry.poison, 0);

  const lastFaultEndMs = happened.at(-1)?.endedAtMs ?? run.injectionEndMs;
  const recovery = recoverySeconds(lastFaultEndMs, ours);
  const crashes = stack.crashes.map((crash) => ({ label: crash.label, at: round1((crash.atMs - startMs) / 1000), exit: crash.exit }));
  const unacceptedChunks = load.retrying;
  const verdict = judge(
    {
      orders: accepted.size,
      delivered,
      duplicates: duplicates.total,
      unexpectedOrders,
      unacceptedChunks,
      auditOk,
      deadLetters,
      poisonInjected,
      crashes: crashes.length,
      recoverySeconds: recovery,
    },
    { recoveryLimitS: settings.recoveryLimitS },
  );
  const { databaseUrl: _databaseUrl, redisUrl: _redisUrl, ...shownSettings } = settings;
  return {
    ok: verdict.ok,
    failures: verdict.failures,
    seed: settings.seed,
    orders: accepted.size,
    delivered,
    missing: verdict.missing,
    missingByStatus,
    duplicates: duplicates.total,
    duplicateKinds: { twoRecipes: duplicates.twoRecipes, wrongDispatches: duplicates.wrongDispatches },
    unexpectedOrders,
    unacceptedChunks,
    auditOk,
    unitsSoldNotRecorded: marketSold - unitsBought,
    marketUnitsSold: marketSold,
    unitsBought,
    deadLetters: { ...deadLetters, poisonInjected },
    faults: happened.map(({ fault, startedAtMs, endedAtMs, detail }) => ({
      kind: fault.kind,
      target: fault.target,
      at: round1((startedAtMs - startMs) / 1000),
      lastedS: round1((endedAtMs - startedAtMs) / 1000),
      detail,
      recoverySeconds: caughtUpSeconds(endedAtMs, ours),
    })),
    recoverySeconds: recovery,
    recoveryLimitS: settings.recoveryLimitS,
    crashes,
    load: { chunks: load.chunksSent, retries: load.retries },
    settings: shownSettings,
    at: new Date().toISOString(),
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
