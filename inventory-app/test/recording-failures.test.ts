import { afterEach, describe, expect, it, vi } from 'vitest';
import { ingredientsRequest, TestWarehouse } from './support/warehouse.js';

let warehouse: TestWarehouse;
afterEach(async () => {
  await warehouse?.close();
});

/** How many recordings of purchases PostgreSQL refuses before it accepts them. */
const REFUSALS = 3;

describe('a purchase round whose recording fails', () => {
  it('when PostgreSQL refuses the first recordings, then what the market sold in those rounds still reaches the books, once, and every request is served', async () => {
    warehouse = await TestWarehouse.open({ market: { zeroRate: 0 } });
    const db = warehouse.app.pg;
    // The first recordings fail as they would with the database gone mid-round. A sequence, not a
    // table, counts them: the failed transaction rolls back, nextval does not.
    await db.query(`
      CREATE SEQUENCE recording_attempts;
      CREATE FUNCTION refuse_first_recordings() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('recording_attempts') <= ${REFUSALS} THEN RAISE EXCEPTION 'refused by the test'; END IF;
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
});
