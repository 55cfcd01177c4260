import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { streamNames, type StockAudit } from '@free-lunch/contracts';
import { startMarketSimulator, type RunningMarketSimulator } from '@free-lunch/market-simulator';
import { createTestDatabase, deleteTestKeys, eventually, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { StreamPublisher } from '@free-lunch/streams';
import { ingredientsRequest } from './support/inventory-app.js';
import { MarketGate } from './support/market-gate.js';
import { startWarehouseProcess, type WarehouseProcess } from './support/warehouse-process.js';

/** Calls in flight at once (MARKET_CONCURRENCY) and the most a sale brings. */
const CONCURRENCY = 4;
const MAX_QUANTITY = 5;
const PIZZAS = 80;
const BUY_PATH = '/api/farmers-market/buy';

const cleanUps: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});

interface Stage {
  market: RunningMarketSimulator;
  /** Between the warehouses and the market. */
  gate: MarketGate;
  db: pg.Pool;
  /** A new warehouse process on the stage's database, key prefix and market. */
  startWarehouse(): Promise<WarehouseProcess>;
}

/**
 * A database, key prefix and market of the test's own, the market behind a gate, and 80 pizzas
 * requested (most of them need the market). The market answers quickly, so a round makes several
 * calls per slot, and every call sells: every answered call of a round is a sale in the journal.
 */
async function stage(): Promise<Stage> {
  const database = await createTestDatabase();
  cleanUps.push(() => database.drop());
  const prefix = testKeyPrefix();
  cleanUps.push(() => deleteTestKeys(prefix));
  const market = await startMarketSimulator({ logLevel: 'silent', seed: 16, latencyMs: 5, zeroRate: 0, maxQuantity: MAX_QUANTITY });
  cleanUps.push(() => market.close());
  const gate = await MarketGate.open(market.baseUrl);
  cleanUps.push(() => gate.close());
  const roles = await database.serviceEnv('inventory');
  const env = {
    ...roles,
    REDIS_URL: testEnv.redisUrl,
    KEY_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    MARKET_URL: `${gate.baseUrl}${BUY_PATH}`,
    MARKET_CONCURRENCY: String(CONCURRENCY),
    // A call the gate holds stays in flight until the warehouse is killed.
    MARKET_TIMEOUT_MS: '120000',
    MARKET_RETRY_BASE_MS: '5',
    MARKET_RETRY_MAX_MS: '40',
  };
  const db = new pg.Pool({ connectionString: roles.DATABASE_URL, options: '-c search_path=inventory', max: 2 });
  cleanUps.push(() => db.end());
  const startWarehouse = async () => {
    const warehouse = await startWarehouseProcess(env);
    cleanUps.push(() => warehouse.kill());
    return warehouse;
  };
  const redis = new Redis(testEnv.redisUrl);
  try {
    const requests = Array.from({ length: PIZZAS }, () => ({ stream: streamNames.ingredientsRequested, message: ingredientsRequest('pizza') }));
    await new StreamPublisher(redis, { prefix }).publishMany(requests);
  } finally {
    await redis.quit();
  }
  return { market, gate, db, startWarehouse };
}

/** What the market says it sold: units, and calls that sold something. */
async function soldByMarket(market: RunningMarketSimulator): Promise<{ units: number; sales: number }> {
  const { totals } = (await (await fetch(`${market.baseUrl}/stats`)).json()) as {
    totals: { calls: number; unitsSold: number; zeros: number; faults: number };
  };
  return { units: totals.unitsSold, sales: totals.calls - totals.zeros - totals.faults };
}

/** What the books hold: units bought (purchases, and the ledger's purchase rows) and sales recorded. */
async function soldInBooks(db: pg.Pool): Promise<{ units: number; sales: number; unitsInLedger: number }> {
  const { rows } = await db.query<{ units: number; sales: number; units_in_ledger: number }>(
    `SELECT (SELECT coalesce(sum(quantity_sold), 0)::int FROM purchases) AS units,
            (SELECT count(*)::int FROM purchases WHERE outcome = 'sold') AS sales,
            (SELECT coalesce(sum(delta), 0)::int FROM stock_ledger WHERE reason = 'purchase') AS units_in_ledger`,
  );
  const { units, sales, units_in_ledger: unitsInLedger } = rows[0]!;
  return { units, sales, unitsInLedger };
}

/** Sales journaled and not in the books yet. */
async function onlyInJournal(db: pg.Pool): Promise<{ sales: number; units: number }> {
  const { rows } = await db.query<{ sales: number; units: number }>(
    'SELECT count(*)::int AS sales, coalesce(sum(quantity_sold), 0)::int AS units FROM market_journal WHERE taken_at IS NULL',
  );
  return rows[0]!;
}

async function allDispatched(db: pg.Pool): Promise<void> {
  await eventually('every pizza to be dispatched', async () => {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM requests WHERE status = 'dispatched'`);
      expect(rows[0]!.n).toBe(PIZZAS);
    }, { timeoutMs: 60_000, intervalMs: 200 });
}

/** Waits until `read` gives the same value twice `ms` apart, and returns it. */
async function settled<T>(read: () => T | Promise<T>, ms: number): Promise<T> {
  let last = await read();
  for (;;) {
    await sleep(ms);
    const now = await read();
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
}

/**
 * Once the warehouse has recorded a round, the gate holds its calls: the round in progress (or the
 * next) cannot end, so it is never recorded. All held calls but one are then let through, so that
 * round has answered calls, journaled, and one call still in flight: the warehouse is stuck in the
 * middle of a round. Returns what the journal alone holds then (what a warehouse recording its
 * rounds only at their end would lose to a kill) and how many calls are still held.
 */
async function stuckMidRound(test: Stage, { askMarket }: { askMarket: boolean }) {
  await eventually('a sale in the books', async () => expect((await soldInBooks(test.db)).units).toBeGreaterThan(0), { timeoutMs: 30_000, intervalMs: 20 });
  test.gate.hold({ askMarket });
  await eventually('a market call held at the gate', () => expect(test.gate.held).toBeGreaterThan(0), { timeoutMs: 10_000, intervalMs: 10 });
  // Every slot of the round is held, or has finished its calls (the round's window closed).
  const held = await settled(() => test.gate.held, 500);
  test.gate.release(held - 1);
  // Sales answered in this round are journaled before the slot makes its next call.
  const journaled = await settled(() => onlyInJournal(test.db), 500);
  return { journaled, inFlight: test.gate.held };
}

describe('a warehouse killed in the middle of a purchase round', () => {
  it('when it is killed between the market answering and the round being recorded, then every unit the market sold it reaches the books, once, through the next warehouse', async () => {
    const test = await stage();
    const first = await test.startWarehouse();
    // The call still held was never asked of the market: the market counts only calls the warehouse heard.
    const { journaled } = await stuckMidRound(test, { askMarket: false });
    expect(journaled.sales).toBeGreaterThan(0);
    const beforeKill = await soldInBooks(test.db);
    expect(beforeKill.units).toBeLessThan((await soldByMarket(test.market)).units);
    await first.kill();
    // Its held call ended with it; opening the gate before the gate has seen that would ask the market anyway.
    await eventually('the gate to see the killed warehouse hang up', () => expect(test.gate.held).toBe(0), { timeoutMs: 10_000, intervalMs: 10 });
    test.gate.open();
    const second = await test.startWarehouse();

    await allDispatched(test.db);
    // Every unit and every sale the market counted, none missing and none twice. (A round planned
    // before the last dispatch may still be recording, hence the wait.)
    await eventually('the books to hold what the market sold', async () => {
        const market = await soldByMarket(test.market);
        expect(await soldInBooks(test.db)).toEqual({ units: market.units, sales: market.sales, unitsInLedger: market.units });
      }, { timeoutMs: 15_000, intervalMs: 200 });
    expect(await onlyInJournal(test.db)).toEqual({ sales: 0, units: 0 });
    expect(((await (await fetch(`${second.url}/stock/audit`)).json()) as StockAudit).ok).toBe(true);
  }, 180_000);

  it('when it is killed with calls in flight that the market has answered, then the books lack those calls and nothing else, and hold nothing twice', async () => {
    const test = await stage();
    const first = await test.startWarehouse();
    // The market counts the held calls as sold; the warehouse never hears their answers.
    const { journaled, inFlight } = await stuckMidRound(test, { askMarket: true });
    expect(journaled.sales).toBeGreaterThan(0);
    expect(inFlight).toBeGreaterThan(0);
    expect(inFlight).toBeLessThanOrEqual(CONCURRENCY);
    await first.kill();
    // Its held call ended with it; opening the gate before the gate has seen that would ask the market anyway.
    await eventually('the gate to see the killed warehouse hang up', () => expect(test.gate.held).toBe(0), { timeoutMs: 10_000, intervalMs: 10 });
    test.gate.open();
    const second = await test.startWarehouse();

    await allDispatched(test.db);
    await eventually('the ledger to hold what the books hold', async () => {
        const market = await soldByMarket(test.market);
        const books = await soldInBooks(test.db);
        expect(books.unitsInLedger).toBe(books.units);
        expect(market.sales - books.sales).toBe(inFlight);
        expect(market.units - books.units).toBeGreaterThanOrEqual(inFlight);
        expect(market.units - books.units).toBeLessThanOrEqual(inFlight * MAX_QUANTITY);
      }, { timeoutMs: 15_000, intervalMs: 200 });
    expect(await onlyInJournal(test.db)).toEqual({ sales: 0, units: 0 });
    expect(((await (await fetch(`${second.url}/stock/audit`)).json()) as StockAudit).ok).toBe(true);
  }, 180_000);
});
