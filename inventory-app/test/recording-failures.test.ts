import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, PostgresProxy, testEnv } from '@free-lunch/service-kit/testing';
import { pruneRounds, recordPurchaseRounds } from '../src/data/purchases.js';
import { auditOf, dispatchesOf, ingredientsRequest, type InventoryUnderTest, requestIngredients, startInventoryUnderTest } from './support/inventory-app.js';

let warehouse: InventoryUnderTest;
/** For a test whose warehouse reaches PostgreSQL through a proxy: closed after the warehouse. */
let proxy: PostgresProxy | undefined;
afterEach(async () => {
  await warehouse?.close();
  await proxy?.close();
  proxy = undefined;
});

/**
 * Has PostgreSQL answer recording attempt n (1, 2, …) with what `verdict` says for it: a PL/pgSQL
 * statement that may RAISE, with the attempt's number in `attempt`. An attempt is a statement that
 * records at least one purchase (a replay that finds nothing to replay is not one). A sequence, not
 * a table, counts them: a failed transaction rolls back, nextval does not.
 */
async function judgeRecordings(verdict: string): Promise<void> {
  // As the schema's owner: the warehouse's own role may not create triggers, and what the owner
  // creates in the schema the warehouse may use (its default privileges).
  await warehouse.asSchemaOwner(`
    CREATE SEQUENCE recording_attempts;
    CREATE FUNCTION judge_recording() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE attempt bigint;
    BEGIN
      IF NOT EXISTS (SELECT FROM recorded) THEN RETURN NULL; END IF;
      attempt := nextval('recording_attempts');
      ${verdict}
      RETURN NULL;
    END $$;
    CREATE TRIGGER judge_recording AFTER INSERT ON purchases REFERENCING NEW TABLE AS recorded
      FOR EACH STATEMENT EXECUTE FUNCTION judge_recording();
  `);
}

/** As PostgreSQL answers while it restarts: worth trying again. */
const CANNOT_TAKE_IT = `RAISE EXCEPTION 'the database is starting up (the test)' USING ERRCODE = 'cannot_connect_now';`;
/** A refusal about the statement or its data: trying again would fail the same way. */
const REFUSE_IT = `RAISE EXCEPTION 'refused by the test';`;

/** Recording attempts PostgreSQL has judged so far. */
async function recordingAttempts(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ n: string }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM recording_attempts');
  return Number(rows[0]!.n);
}

/** Market calls and units sold as the market counted them, and as the purchase history and ledger hold them. */
async function callsCounted(db: pg.Pool): Promise<{ byMarket: number; inBooks: number; unitsByMarket: number; unitsInBooks: number }> {
  const market = (await (await fetch(`${warehouse.market.baseUrl}/stats`)).json()) as {
    totals: { calls: number; unitsSold: number };
  };
  const { rows } = await db.query<{ calls: number; units: number }>(
    `SELECT (SELECT count(*)::int FROM purchases) AS calls,
            (SELECT coalesce(sum(delta), 0)::int FROM stock_ledger WHERE reason = 'purchase') AS units`,
  );
  return { byMarket: market.totals.calls, inBooks: rows[0]!.calls, unitsByMarket: market.totals.unitsSold, unitsInBooks: rows[0]!.units };
}

/**
 * Waits until every call and unit the market counted is in the books, no more and no fewer (a round
 * planned before the last dispatch may still be recording, hence the wait).
 */
function booksMatchMarket(db: pg.Pool): Promise<void> {
  return eventually('the books to match the market', async () => {
      const counted = await callsCounted(db);
      expect(counted.unitsByMarket).toBeGreaterThan(0);
      expect({ calls: counted.inBooks, units: counted.unitsInBooks }).toEqual({ calls: counted.byMarket, units: counted.unitsByMarket });
    });
}

/** Publishes pizzas: 5 cheese and 5 tomatoes on hand serve the first, the rest need the market. */
async function orderPizzas(count: number): Promise<void> {
  await requestIngredients(warehouse, ...Array.from({ length: count }, () => ingredientsRequest('pizza')));
}

/** Publishes salads: whatever pizzas made the warehouse buy, they need lettuce it has too little of. */
async function orderSalads(count: number): Promise<void> {
  await requestIngredients(warehouse, ...Array.from({ length: count }, () => ingredientsRequest('salad')));
}

const allDispatched = (count: number) =>
  eventually(`${count} dispatches`, async () => expect(await dispatchesOf(warehouse)).toHaveLength(count), { timeoutMs: 15_000 });

describe('a purchase round whose recording fails', () => {
  it('when PostgreSQL cannot take the first recordings, then what the market sold in those rounds still reaches the books, once, and every request is served', async () => {
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 0 } });
    const db = warehouse.app.pg;
    await judgeRecordings(`IF attempt <= 3 THEN ${CANNOT_TAKE_IT} END IF;`);

    await orderPizzas(6);

    await allDispatched(6);
    expect(await recordingAttempts(db)).toBeGreaterThan(3);
    await booksMatchMarket(db);
    expect((await auditOf(warehouse)).ok).toBe(true);
  });

  it('when the connection drops after PostgreSQL committed a recording, before the purchaser heard, then recording it again adds nothing twice', async () => {
    const through = await PostgresProxy.start(testEnv.databaseUrl);
    proxy = through;
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 0 }, databaseUrl: (url) => through.url(url) });
    const db = warehouse.app.pg;
    // The first recording transaction that sends a round's calls (in the purchases statement's
    // parameters, a JSON document of calls each naming its round) loses its COMMIT's answer.
    through.loseCommitAnswerOf('{"round":"');

    await orderPizzas(6);

    await allDispatched(6);
    expect(through.commitAnswersLost).toBe(1);
    // The purchaser records a round whose commit it never heard of with its next recording: once that
    // has committed, the books must match the market, not hold the round twice.
    await eventually('a commit after the lost answer', () => expect(through.commitsAfterTheLoss).toBeGreaterThan(0));
    await booksMatchMarket(db);
    expect((await auditOf(warehouse)).ok).toBe(true);
  });

  it('when PostgreSQL refuses a round itself, then that round is given up and the rounds after it are still recorded', async () => {
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 0 } });
    const db = warehouse.app.pg;
    await judgeRecordings(`IF attempt = 1 THEN ${REFUSE_IT} END IF;`);

    await orderPizzas(6);

    await allDispatched(6);
    const calls = await callsCounted(db);
    // The refused round's calls are missing from the history, and only those: later rounds went in.
    expect(calls.inBooks).toBeGreaterThan(0);
    expect(calls.inBooks).toBeLessThan(calls.byMarket);
    expect((await auditOf(warehouse)).ok).toBe(true);
  });

  it('when PostgreSQL refuses a recording of several rounds, then each is recorded alone and none is lost', async () => {
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 0 } });
    const db = warehouse.app.pg;
    // Two recordings the database cannot take; then a refusal of the recording that carries the
    // rounds kept from them together with a new one; then nothing.
    await judgeRecordings(`IF attempt <= 2 THEN ${CANNOT_TAKE_IT} END IF; IF attempt = 3 THEN ${REFUSE_IT} END IF;`);

    await orderPizzas(6);
    // While the purchaser pauses after the second failure, salads make a new round of calls (for
    // lettuce, which the pizzas' rounds never bought), recorded together with the round kept so far.
    await eventually('a second recording attempt', async () => expect(await recordingAttempts(db)).toBeGreaterThanOrEqual(2), { timeoutMs: 10_000, intervalMs: 10 });
    await orderSalads(6);

    await allDispatched(12);
    await eventually('every market call in the books', async () => {
        const calls = await callsCounted(db);
        expect(calls.inBooks).toBe(calls.byMarket);
      });
    expect(await recordingAttempts(db)).toBeGreaterThan(3);
    // Recorded each alone: no two rounds went into the books in the same transaction.
    const { rows } = await db.query<{ rounds: number; transactions: number }>(
      'SELECT count(*)::int AS rounds, count(DISTINCT recorded_at)::int AS transactions FROM purchase_rounds',
    );
    expect(rows[0]!.rounds).toBeGreaterThanOrEqual(2);
    expect(rows[0]!.transactions).toBe(rows[0]!.rounds);
    expect((await auditOf(warehouse)).ok).toBe(true);
  });
});

describe('the ids of recorded purchase rounds', () => {
  it('when a round is claimed again, then it is not new; when its id is older than the cut-off, then pruning forgets it and only it', async () => {
    warehouse = await startInventoryUnderTest();
    // The warehouse's own purchaser prunes round ids too: with it stopped, only the test does.
    await warehouse.stopReplica(warehouse.app);
    const { DATABASE_URL } = await warehouse.database.serviceEnv('inventory');
    const db = new pg.Pool({ connectionString: DATABASE_URL, options: '-c search_path=inventory', max: 2 });
    try {
      const [old, recent] = [randomUUID(), randomUUID()];
      const client = await db.connect();
      const zero = { ingredient: 'tomato' as const, outcome: 'none' as const, quantitySold: 0, error: null, at: new Date() };
      const record = () =>
        recordPurchaseRounds(client, {
          purchaser: randomUUID(),
          replayOthers: false,
          rounds: [old, recent].map((roundId) => ({ roundId, calls: [zero] })),
        });
      try {
        expect(await record()).toHaveLength(2);
        expect(await record()).toEqual([]);
      } finally {
        client.release();
      }
      await db.query(`UPDATE purchase_rounds SET recorded_at = now() - interval '2 days' WHERE id = $1`, [old]);

      expect(await pruneRounds(db, new Date(Date.now() - 24 * 60 * 60_000))).toBe(1);
      const { rows } = await db.query<{ id: string }>('SELECT id FROM purchase_rounds WHERE id = ANY($1::uuid[])', [[old, recent]]);
      expect(rows.map((row) => row.id)).toEqual([recent]);
    } finally {
      await db.end();
    }
  });
});
