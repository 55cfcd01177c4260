import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@free-lunch/service-kit/testing';
import { auditOf, dispatchesOf, ingredientsRequest, type InventoryUnderTest, requestIngredients, startInventoryUnderTest, stockOf } from './support/inventory-app.js';

let warehouse: InventoryUnderTest;
afterEach(async () => {
  await warehouse?.close();
});

const dispatchesFor = async (orderId: string) => (await dispatchesOf(warehouse)).filter((m) => m.orderId === orderId);

describe('ingredient requests', () => {
  it('when the kitchen asks for a recipe the warehouse holds, then every ingredient is dispatched and leaves the stock', async () => {
    warehouse = await startInventoryUnderTest();
    const pizza = ingredientsRequest('pizza');
    await requestIngredients(warehouse, pizza);

    await eventually('the pizza to be dispatched', async () => expect(await dispatchesFor(pizza.orderId)).toHaveLength(1));
    const [dispatch] = await dispatchesFor(pizza.orderId);
    expect(dispatch).toMatchObject({ type: 'ingredients.dispatched', recipe: 'pizza', ingredients: pizza.ingredients });

    const stock = await stockOf(warehouse);
    expect(stock).toMatchObject({ cheese: 3, tomato: 2, lemon: 5, rice: 5 });
    const audit = await auditOf(warehouse);
    expect(audit.ok).toBe(true);
    expect(audit.ingredients.find((i) => i.ingredient === 'tomato')).toMatchObject({ dispatched: 3, onHand: 2, expected: 2 });
  });

  it('when the same request is delivered twice before it is served, then its ingredients leave the warehouse once', async () => {
    warehouse = await startInventoryUnderTest();
    const fries = ingredientsRequest('french_fries');
    await requestIngredients(warehouse, fries, fries);
    await requestIngredients(warehouse, fries);

    // A later request served proves the duplicates were handled before it: the queue is FIFO.
    const burger = ingredientsRequest('burger');
    await requestIngredients(warehouse, burger);
    await eventually('the burger to be dispatched', async () => expect(await dispatchesFor(burger.orderId)).toHaveLength(1));

    expect(await dispatchesFor(fries.orderId)).toHaveLength(1);
    expect(await stockOf(warehouse)).toMatchObject({ potato: 2, ketchup: 3 });
    expect((await auditOf(warehouse)).ok).toBe(true);
  });

  it('when the kitchen asks again for an order already dispatched, then ingredients.dispatched is sent again and no more stock leaves', async () => {
    warehouse = await startInventoryUnderTest();
    const salad = ingredientsRequest('salad');
    await requestIngredients(warehouse, salad);
    await eventually('the salad to be dispatched', async () => expect(await dispatchesFor(salad.orderId)).toHaveLength(1));
    const stockAfterFirst = await stockOf(warehouse);

    await requestIngredients(warehouse, { ...salad, requestedAt: new Date().toISOString() });

    await eventually('the salad to be dispatched again', async () => expect(await dispatchesFor(salad.orderId)).toHaveLength(2));
    const [first, again] = await dispatchesFor(salad.orderId);
    expect(again).toEqual(first);
    expect(await stockOf(warehouse)).toEqual(stockAfterFirst);
    expect((await auditOf(warehouse)).ok).toBe(true);
  });

  it('when a request needs more than the warehouse holds, then it waits for the market and is served once bought', async () => {
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 0, maxQuantity: 2 } });
    const pizzas = [ingredientsRequest('pizza'), ingredientsRequest('pizza'), ingredientsRequest('pizza')];
    await requestIngredients(warehouse, ...pizzas);

    await eventually('every pizza to be served', async () => {
        const served = new Set((await dispatchesOf(warehouse)).map((m) => m.orderId));
        expect(pizzas.every((p) => served.has(p.orderId))).toBe(true);
      }, { timeoutMs: 15_000 });
    const audit = await auditOf(warehouse);
    expect(audit.ok).toBe(true);
    expect(audit.ingredients.find((i) => i.ingredient === 'tomato')!.bought).toBeGreaterThanOrEqual(4);
  });
});
