import { afterEach, describe, expect, it, vi } from 'vitest';
import { ingredientsRequest, TestWarehouse } from './support/warehouse.js';

let warehouse: TestWarehouse;
afterEach(async () => {
  await warehouse?.close();
});

const dispatchesOf = async (orderId: string) => (await warehouse.dispatched()).filter((m) => m.orderId === orderId);

describe('ingredient requests', () => {
  it('when the kitchen asks for a recipe the warehouse holds, then every ingredient is dispatched and leaves the stock', async () => {
    warehouse = await TestWarehouse.open();
    const pizza = ingredientsRequest('pizza');
    await warehouse.request(pizza);

    await vi.waitFor(async () => expect(await dispatchesOf(pizza.orderId)).toHaveLength(1), { timeout: 10_000 });
    const [dispatch] = await dispatchesOf(pizza.orderId);
    expect(dispatch).toMatchObject({ type: 'ingredients.dispatched', recipe: 'pizza', ingredients: pizza.ingredients });

    const stock = await warehouse.stock();
    expect(stock).toMatchObject({ cheese: 3, tomato: 2, lemon: 5, rice: 5 });
    const audit = await warehouse.audit();
    expect(audit.ok).toBe(true);
    expect(audit.ingredients.find((i) => i.ingredient === 'tomato')).toMatchObject({ dispatched: 3, onHand: 2, expected: 2 });
  });

  it('when the same request is delivered twice before it is served, then its ingredients leave the warehouse once', async () => {
    warehouse = await TestWarehouse.open();
    const fries = ingredientsRequest('french_fries');
    await warehouse.request(fries, fries);
    await warehouse.request(fries);

    // A later request served proves the duplicates were handled before it: the queue is FIFO.
    const burger = ingredientsRequest('burger');
    await warehouse.request(burger);
    await vi.waitFor(async () => expect(await dispatchesOf(burger.orderId)).toHaveLength(1), { timeout: 10_000 });

    expect(await dispatchesOf(fries.orderId)).toHaveLength(1);
    expect(await warehouse.stock()).toMatchObject({ potato: 2, ketchup: 3 });
    expect((await warehouse.audit()).ok).toBe(true);
  });

  it('when the kitchen asks again for an order already dispatched, then ingredients.dispatched is sent again and no more stock leaves', async () => {
    warehouse = await TestWarehouse.open();
    const salad = ingredientsRequest('salad');
    await warehouse.request(salad);
    await vi.waitFor(async () => expect(await dispatchesOf(salad.orderId)).toHaveLength(1), { timeout: 10_000 });
    const stockAfterFirst = await warehouse.stock();

    await warehouse.request({ ...salad, requestedAt: new Date().toISOString() });

    await vi.waitFor(async () => expect(await dispatchesOf(salad.orderId)).toHaveLength(2), { timeout: 10_000 });
    const [first, again] = await dispatchesOf(salad.orderId);
    expect(again).toEqual(first);
    expect(await warehouse.stock()).toEqual(stockAfterFirst);
    expect((await warehouse.audit()).ok).toBe(true);
  });

  it('when a request needs more than the warehouse holds, then it waits for the market and is served once bought', async () => {
    warehouse = await TestWarehouse.open({ market: { zeroRate: 0, maxQuantity: 2 } });
    const pizzas = [ingredientsRequest('pizza'), ingredientsRequest('pizza'), ingredientsRequest('pizza')];
    await warehouse.request(...pizzas);

    await vi.waitFor(
      async () => {
        const served = new Set((await warehouse.dispatched()).map((m) => m.orderId));
        expect(pizzas.every((p) => served.has(p.orderId))).toBe(true);
      },
      { timeout: 15_000 },
    );
    const audit = await warehouse.audit();
    expect(audit.ok).toBe(true);
    expect(audit.ingredients.find((i) => i.ingredient === 'tomato')!.bought).toBeGreaterThanOrEqual(4);
  });
});
