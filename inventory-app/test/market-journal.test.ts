import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ingredient } from '@free-lunch/contracts';
import { journalSales, type JournaledSale } from '../src/data/market-journal.js';
import { recordPurchaseRounds } from '../src/data/purchases.js';
import { MarketJournal, type RoundCall } from '../src/purchasing/market-journal.js';
import { recordRounds } from '../src/purchasing/record-round.js';
import { auditStock } from '../src/use-cases/audit.js';
import { type InventoryUnderTest, startInventoryUnderTest } from './support/inventory-app.js';

let warehouse: InventoryUnderTest;
let pool: pg.Pool;
afterEach(async () => {
  await pool?.end();
  await warehouse?.close();
});

/**
 * The warehouse's database with no warehouse running on it (its own purchaser would replay the
 * journal too), reached as the warehouse's role.
 */
async function bareDatabase(): Promise<pg.Pool> {
  warehouse = await startInventoryUnderTest();
  await warehouse.stopReplica(warehouse.app);
  const { DATABASE_URL } = await warehouse.database.serviceEnv('inventory');
  pool = new pg.Pool({ connectionString: DATABASE_URL, options: '-c search_path=inventory', max: 6 });
  return pool;
}

const ingredients: Ingredient[] = ['tomato', 'cheese', 'rice', 'onion'];

/** `count` sales of 1..5 units, numbered from 1. */
function sales(count: number): JournaledSale[] {
  return Array.from({ length: count }, (_, i) => ({
    seq: i + 1,
    ingredient: ingredients[i % ingredients.length]!,
    quantitySold: (i % 5) + 1,
    at: new Date(Date.now() + i),
  }));
}

const unitsOf = (list: readonly JournaledSale[]) => list.reduce((n, sale) => n + sale.quantitySold, 0);

async function unitsInBooks(db: pg.Pool): Promise<{ purchases: number; ledger: number; stock: number }> {
  const { rows } = await db.query<{ purchases: number; ledger: number; stock: number }>(
    `SELECT (SELECT coalesce(sum(quantity_sold), 0)::int FROM purchases) AS purchases,
            (SELECT coalesce(sum(delta), 0)::int FROM stock_ledger WHERE reason = 'purchase') AS ledger,
            (SELECT sum(on_hand)::int - 50 FROM stock) AS stock`,
  );
  return rows[0]!;
}

/** Runs `work` in a transaction on a connection of its own, and leaves it open until `commit` is called. */
async function openTransaction<T>(db: pg.Pool, work: (client: pg.PoolClient) => Promise<T>) {
  const client = await db.connect();
  await client.query('BEGIN');
  const result = work(client);
  return {
    result,
    commit: async () => {
      await result;
      await client.query('COMMIT');
      client.release();
    },
    /** The connection dies with the transaction open, as with a warehouse killed mid-replay. */
    die: async () => {
      await result;
      client.release(new Error('killed'));
    },
  };
}

// Each test opens a warehouse's database, which takes a while on a loaded machine.
describe('replaying the market journal', { timeout: 90_000 }, () => {
  it('when two purchasers replay a dead one\'s sales at the same time, then each sale is in stock, ledger and purchases once', async () => {
    const db = await bareDatabase();
    const dead = randomUUID();
    const journaled = sales(40);
    await journalSales(db, dead, journaled);

    const [first, second] = await Promise.all([
      recordRounds(db, { purchaser: randomUUID(), replayOthers: true }, []),
      recordRounds(db, { purchaser: randomUUID(), replayOthers: true }, []),
    ]);

    expect(first.attempts.length + second.attempts.length).toBe(journaled.length);
    expect(await unitsInBooks(db)).toEqual({ purchases: unitsOf(journaled), ledger: unitsOf(journaled), stock: unitsOf(journaled) });
    expect((await auditStock(db)).ok).toBe(true);
  });

  it('when a replay dies before it commits, then the next one takes every sale', async () => {
    const db = await bareDatabase();
    const journaled = sales(10);
    await journalSales(db, randomUUID(), journaled);

    const killed = await openTransaction(db, (client) =>
      recordPurchaseRounds(client, { purchaser: randomUUID(), replayOthers: true, rounds: [] }),
    );
    expect(await killed.result).toHaveLength(journaled.length);
    await killed.die();

    const next = await recordRounds(db, { purchaser: randomUUID(), replayOthers: true }, []);
    expect(next.attempts).toHaveLength(journaled.length);
    expect((await unitsInBooks(db)).purchases).toBe(unitsOf(journaled));
  });

  it('when a purchaser writes again sales another has replayed (its first write\'s answer was lost), then they are not recorded twice', async () => {
    const db = await bareDatabase();
    const alive = randomUUID();
    const journaled = sales(10);
    await journalSales(db, alive, journaled);
    await recordRounds(db, { purchaser: randomUUID(), replayOthers: true }, []);

    await journalSales(db, alive, journaled);
    const again = await recordRounds(db, { purchaser: randomUUID(), replayOthers: true }, []);
    const own = await recordRounds(db, { purchaser: alive, replayOthers: false }, [
      { id: randomUUID(), attempts: journaled.map((sale): RoundCall => ({ ...sale, outcome: 'sold', error: null, journalSeq: sale.seq })) },
    ]);

    expect(again.attempts).toEqual([]);
    expect(own.attempts).toEqual([]);
    expect((await unitsInBooks(db)).purchases).toBe(unitsOf(journaled));
  });
});

describe('the journal writer', { timeout: 90_000 }, () => {
  it('when a recording or an allocation holds the stock rows, then journaling a sale does not wait for it', async () => {
    const db = await bareDatabase();
    const recording = await openTransaction(db, (client) => client.query('SELECT ingredient FROM stock ORDER BY ingredient FOR UPDATE'));
    await recording.result;
    try {
      const written = journalSales(db, randomUUID(), sales(4)).then(() => 'written');
      const blocked = new Promise((resolve) => setTimeout(() => resolve('blocked behind the stock lock'), 2_000));
      expect(await Promise.race([written, blocked])).toBe('written');
    } finally {
      await recording.commit();
    }
  });

  it('when a sale is handed over, then its write waits a moment for others, unless writeNow says none are coming', async () => {
    const db = await bareDatabase();
    let writesStarted = 0;
    const counting = {
      query: (config: pg.QueryConfig) => {
        writesStarted += 1;
        return db.query(config);
      },
    } as unknown as pg.Pool;
    const journal = new MarketJournal(counting, warehouse.app.log);
    const call = (quantitySold: number): RoundCall => ({ ingredient: 'rice', outcome: 'sold', quantitySold, error: null, at: new Date() });

    const lingering = journal.write(call(1));
    expect(writesStarted).toBe(0);
    await lingering;
    expect(writesStarted).toBe(1);
    await new Promise((resolve) => setImmediate(resolve)); // the first write's end is handled

    const last = journal.write(call(2));
    journal.writeNow();
    expect(writesStarted).toBe(2);
    await last;
    const { rows } = await db.query<{ units: number; sales: number }>('SELECT sum(quantity_sold)::int AS units, count(*)::int AS sales FROM market_journal');
    expect(rows[0]).toEqual({ units: 3, sales: 2 });
  });

  it('when a write fails on a broken connection, then flush writes the sale again and it is journaled once', async () => {
    const db = await bareDatabase();
    let breakNext = true;
    const flaky = {
      query: async (config: pg.QueryConfig) => {
        const result = await db.query(config);
        if (!breakNext) return result;
        breakNext = false;
        // Written, but the answer never came: as if the connection broke on the COMMIT's way back.
        throw Object.assign(new Error('read ECONNRESET'), { errno: -104, syscall: 'read' });
      },
    } as unknown as pg.Pool;
    const journal = new MarketJournal(flaky, warehouse.app.log);
    const call: RoundCall = { ingredient: 'tomato', outcome: 'sold', quantitySold: 3, error: null, at: new Date() };

    await journal.write(call);
    expect(call.journalSeq).toBe(1);
    await journal.flush();

    const { rows } = await db.query<{ seq: string; quantity_sold: number }>('SELECT seq, quantity_sold FROM market_journal');
    expect(rows).toEqual([{ seq: '1', quantity_sold: 3 }]);
    const recorded = await recordRounds(db, { purchaser: journal.purchaser, replayOthers: false }, [{ id: randomUUID(), attempts: [call] }]);
    expect(recorded.bought).toEqual(new Map([['tomato', 3]]));
  });

  it('when a write fails while more sales wait behind it, then every caller gets its answer and flush writes them all once', async () => {
    const db = await bareDatabase();
    let failFirst = true;
    let firstWriteStarted = () => {};
    const writing = new Promise<void>((resolve) => (firstWriteStarted = resolve));
    let releaseFirst = () => {};
    const firstWriteHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const unreachable = {
      query: async (config: pg.QueryConfig) => {
        if (!failFirst) return db.query(config);
        failFirst = false;
        // The first write hangs until the others are waiting behind it, then PostgreSQL is gone.
        firstWriteStarted();
        await firstWriteHeld;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { errno: -111, code: 'ECONNREFUSED', syscall: 'connect' });
      },
    } as unknown as pg.Pool;
    const journal = new MarketJournal(unreachable, warehouse.app.log);
    const call = (quantitySold: number): RoundCall => ({ ingredient: 'rice', outcome: 'sold', quantitySold, error: null, at: new Date() });

    const first = journal.write(call(1));
    await writing;
    const behind = [journal.write(call(2)), journal.write(call(3))];
    releaseFirst();
    await Promise.all([first, ...behind]);
    await journal.flush();

    const { rows } = await db.query<{ units: number; sales: number }>('SELECT sum(quantity_sold)::int AS units, count(*)::int AS sales FROM market_journal');
    expect(rows[0]).toEqual({ units: 6, sales: 3 });
  });
});
