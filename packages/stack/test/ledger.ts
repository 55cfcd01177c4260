import { expect } from 'vitest';
import { ingredients, recipeBook, type OrderSummaryItem, type StockAudit } from '@free-lunch/contracts';
import type { FreeLunchClient } from '../src/index.js';

/**
 * Units each ingredient should have left the warehouse for these orders: the sum of their recipes.
 * Comparing it with the audit's `dispatched` proves nothing was dispatched twice or lost.
 */
export function unitsForOrders(orders: OrderSummaryItem[]): Record<string, number> {
  const units: Record<string, number> = Object.fromEntries(ingredients.map((name) => [name, 0]));
  for (const order of orders) {
    if (!order.recipe) throw new Error(`order ${order.id} has no recipe`);
    for (const { ingredient, quantity } of recipeBook[order.recipe]) units[ingredient]! += quantity;
  }
  return units;
}

export function dispatchedByIngredient(audit: StockAudit): Record<string, number> {
  return Object.fromEntries(audit.ingredients.map((entry) => [entry.ingredient, entry.dispatched]));
}

/**
 * Every order placed is delivered, each once, and the warehouse's audit balances with exactly the
 * ingredients of their recipes dispatched: nothing lost, nothing counted twice.
 */
export async function expectEachDeliveredOnce(client: FreeLunchClient, placed: OrderSummaryItem[]): Promise<void> {
  const delivered = await client.allOrders('delivered');
  expect(delivered.map((order) => order.id).sort()).toEqual(placed.map((order) => order.id).sort());
  const audit = await client.audit();
  expect(audit.ok).toBe(true);
  expect(dispatchedByIngredient(audit)).toEqual(unitsForOrders(delivered));
}
