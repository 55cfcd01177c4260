import { ingredients, recipeBook, type OrderSummaryItem, type StockAudit } from '@free-lunch/contracts';

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
