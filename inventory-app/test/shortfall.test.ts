import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadShortfall } from '../src/data/requests.js';
import { ingredientsRequest, TestWarehouse } from './support/warehouse.js';

let warehouse: TestWarehouse;
afterEach(async () => {
  await warehouse?.close();
});

const shortfall = async () => Object.fromEntries(await loadShortfall(warehouse.app.pg));

describe('the shortfall the purchaser buys for', () => {
  it('when requests wait for a market that has nothing, then the shortfall is exactly what they lack, a duplicate counted once, and it is gone once they are served', async () => {
    warehouse = await TestWarehouse.open({ market: { zeroRate: 1 } });
    const [first, second, third] = [ingredientsRequest('pizza'), ingredientsRequest('pizza'), ingredientsRequest('pizza')];
    const salad = ingredientsRequest('salad');
    await warehouse.request(first!, second!);
    await warehouse.request(second!, third!, salad);

    // Opening stock is 5 of each: the first pizza leaves with 2 cheese and 3 tomatoes. Still
    // waiting: two pizzas (4 cheese, 6 tomatoes) and a salad (2 tomatoes, lemon, onion, 2 lettuce),
    // against 3 cheese and 2 tomatoes on hand.
    await vi.waitFor(
      async () => expect((await warehouse.dispatched()).map((dispatch) => dispatch.orderId)).toEqual([first!.orderId]),
      { timeout: 10_000 },
    );
    await vi.waitFor(async () => expect(await shortfall()).toEqual({ cheese: 1, tomato: 6 }), { timeout: 10_000 });

    await warehouse.configureMarket({ zeroRate: 0 });
    await vi.waitFor(async () => expect(await warehouse.dispatched()).toHaveLength(4), { timeout: 10_000 });
    expect(await shortfall()).toEqual({});
    const { rows } = await warehouse.app.pg.query<{ units: number }>('SELECT sum(units)::int AS units FROM pending_needs');
    expect(rows[0]!.units).toBe(0);
    expect((await warehouse.audit()).ok).toBe(true);
  });
});
