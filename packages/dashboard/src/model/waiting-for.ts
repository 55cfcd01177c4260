import type { Ingredient, IngredientQuantity } from '@free-lunch/contracts';

/**
 * The ingredients an order awaiting ingredients is still waiting for: those the warehouse holds
 * fewer of than its recipe needs. Empty when everything is on the shelf and the order is only in
 * line behind earlier ones.
 */
export function waitingFor(
  recipe: readonly IngredientQuantity[] | undefined,
  stock: ReadonlyMap<Ingredient, number> | null,
): Ingredient[] {
  if (!recipe || !stock) return [];
  return recipe.filter((need) => (stock.get(need.ingredient) ?? 0) < need.quantity).map((need) => need.ingredient);
}

/** Per ingredient, the units every waiting order's recipe needs, summed: what the warehouse must find. */
export function unitsNeeded(
  recipes: Iterable<readonly IngredientQuantity[] | undefined>,
): Map<Ingredient, number> {
  const needed = new Map<Ingredient, number>();
  for (const recipe of recipes) {
    for (const need of recipe ?? []) needed.set(need.ingredient, (needed.get(need.ingredient) ?? 0) + need.quantity);
  }
  return needed;
}
