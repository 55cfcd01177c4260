import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomUUID } from 'node:crypto';
import { claimRounds, pruneRounds } from '../src/data/purchases.js';
import { ingredientsRequest, TestWarehouse } from './support/warehouse.js';

let warehouse: TestWarehouse;
afterEach(async () => {
  await warehouse?.close();
});

/** How many recordings of purchases PostgreSQL refuses before it accepts them. */
const REFUSALS = 3;

describe('a purchase round whose recording fails', () => {
  it('when PostgreSQL cannot take the first recordings, then what the market sold in those rounds still reaches the books, once, and every request is served', async () => {
    warehouse = await TestWarehouse.open({ market: { zeroRate: 0 } });
    const db = warehouse.app.pg;
    // The first recordings fail as they would with the database restarting mid-round. A sequence,
    // not a table, counts them: the failed transaction rolls back, nextval does not.
    await db.query(`
      CREATE SEQUENCE recording_attempts;
      CREATE FUNCTION refuse_first_recordings() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('recording_attempts') <= ${REFUSALS} THEN
          RAISE EXCEPTION 'the database is starting up (the test)' USING ERRCODE = 'cannot_connect_now';
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER refuse_first_recordings BEFORE INSERT ON purchases
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_first_recordings();
    `);

    // 5 cheese and 5 tomatoes on hand serve the first pizza; the other five need the market.
    const pizzas = Array.from({ length: 6 }, () => ingredientsRequest('pizza'));
    await warehouse.request(...pizzas);

    await vi.waitFor(async () => expect(await warehouse.dispatched()).toHaveLength(pizzas.length), { timeout: 15_000 });
    const { rows: attempts } = await db.query<{ last_value: string }>('SELECT last_value FROM recording_attempts');
    expect(Number(attempts[0]!.last_value)).toBeGreaterThan(REFUSALS);

    // Every unit and every call the market counted is in the books (a round planned before the last
    // dispatch may still be recording, hence the wait).
    await vi.waitFor(
      async () => {
        const market = (await (await fetch(`${warehouse.market.baseUrl}/stats`)).json()) as {
          totals: { calls: number; unitsSold: number };
        };
        const { rows } = await db.query<{ calls: number; units: number }>(
          `SELECT (SELECT count(*)::int FROM purchases) AS calls,
                  (SELECT coalesce(sum(delta), 0)::int FROM stock_ledger WHERE reason = 'purchase') AS units`,
        );
        expect(market.totals.unitsSold).toBeGreaterThan(0);
        expect(rows[0]).toEqual({ calls: market.totals.calls, units: market.totals.unitsSold });
      },
      { timeout: 10_000 },
    );
    expect((await warehouse.audit()).ok).toBe(true);
  });

  it('when PostgreSQL refuses a round itself, then that round is given up and the rounds after it are still recorded', async () => {
    warehouse = await TestWarehouse.open({ market: { zeroRate: 0 } });
    const db = warehouse.app.pg;
    // A refusal about the data, not the connection: trying again would fail the same way.
    await db.query(`
      CREATE SEQUENCE recording_attempts;
      CREATE FUNCTION refuse_first_recording() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('recording_attempts') = 1 THEN RAISE EXCEPTION 'refused by the test'; END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER refuse_first_recording BEFORE INSERT ON purchases
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_first_recording();
    `);

    const pizzas = Array.from({ length: 6 }, () => ingredientsRequest('pizza'));
    await warehouse.request(...pizzas);

    await vi.waitFor(async () => expect(await warehouse.dispatched()).toHaveLength(pizzas.length), { timeout: 15_000 });
    const market = (await (await fetch(`${warehouse.market.baseUrl}/stats`)).json()) as { totals: { calls: number } };
    const { rows } = await db.query<{ calls: number }>('SELECT count(*)::int AS calls FROM purchases');
    // The refused round's calls are missing from the history, and only those: later rounds went in.
    expect(rows[0]!.calls).toBeGreaterThan(0);
    expect(rows[0]!.calls).toBeLessThan(market.totals.calls);
    expect((await warehouse.audit()).ok).toBe(true);
  });

  it('when PostgreSQL refuses a recording of several rounds, then each is recorded alone and none is lost', async () => {
    warehouse = await TestWarehouse.open({ market: { zeroRate: 0 } });
    const db = warehouse.app.pg;
    // Two recordings the database cannot take; then a refusal of the recording that carries the
    // rounds kept from them together with a new one; then nothing.
    await db.query(`
      CREATE SEQUENCE recording_attempts;
      CREATE FUNCTION refuse_recordings() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE attempt bigint := nextval('recording_attempts');
      BEGIN
        IF attempt <= 2 THEN RAISE EXCEPTION 'starting up (the test)' USING ERRCODE = 'cannot_connect_now'; END IF;
        IF attempt = 3 THEN RAISE EXCEPTION 'refused by the test'; END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER refuse_recordings BEFORE INSERT ON purchases
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_recordings();
    `);
    const attempts = async () =>
      Number((await db.query<{ n: string }>('SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM recording_attempts')).rows[0]!.n);

    const first = Array.from({ length: 6 }, () => ingredientsRequest('pizza'));
    await warehouse.request(...first);
    // While the purchaser pauses after the second failure, more pizzas make a new round of calls,
    // recorded together with the round kept so far.
    await vi.waitFor(async () => expect(await attempts()).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 10 });
    const second = Array.from({ length: 6 }, () => ingredientsRequest('pizza'));
    await warehouse.request(...second);

    await vi.waitFor(async () => expect(await warehouse.dispatched()).toHaveLength(12), { timeout: 15_000 });
    await vi.waitFor(
      async () => {
        const market = (await (await fetch(`${warehouse.market.baseUrl}/stats`)).json()) as { totals: { calls: number } };
        const { rows } = await db.query<{ calls: number }>('SELECT count(*)::int AS calls FROM purchases');
        expect(rows[0]!.calls).toBe(market.totals.calls);
      },
      { timeout: 10_000 },
    );
    expect(await attempts()).toBeGreaterThan(3);
    expect((await warehouse.audit()).ok).toBe(true);
  });
});

describe('the ids of recorded purchase rounds', () => {
  it('when a round is claimed again, then it is not new; when its id is older than the cut-off, then pruning forgets it and only it', async () => {
    warehouse = await TestWarehouse.open();
    const db = warehouse.app.pg;
    const [old, recent] = [randomUUID(), randomUUID()];
    const client = await db.connect();
    try {
      expect([...(await claimRounds(client, [old, recent]))].sort()).toEqual([old, recent].sort());
      expect([...(await claimRounds(client, [old, recent]))]).toEqual([]);
    } finally {
      client.release();
    }
    await db.query(`UPDATE purchase_rounds SET recorded_at = now() - interval '2 days' WHERE id = $1`, [old]);

    expect(await pruneRounds(db, new Date(Date.now() - 24 * 60 * 60_000))).toBe(1);
    const { rows } = await db.query<{ id: string }>('SELECT id FROM purchase_rounds WHERE id = ANY($1::uuid[])', [[old, recent]]);
    expect(rows.map((row) => row.id)).toEqual([recent]);
  });
});
