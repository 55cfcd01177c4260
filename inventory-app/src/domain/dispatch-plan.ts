import { recipeBook, type Ingredient, type IngredientQuantity } from '@free-lunch/contracts';

/** Units on hand per ingredient. An ingredient missing from the map has none. */
export type StockLevels = ReadonlyMap<Ingredient, number>;

/** A ticket's request for ingredients that the warehouse has not handed over yet. */
export interface PendingRequest {
  orderId: string;
  /** What the recipe needs, one entry per ingredient (see `combineNeeds`). */
  needs: readonly IngredientQuantity[];
}

export interface DispatchPlan<R extends PendingRequest> {
  /** Requests to hand over now, oldest first: each gets every ingredient it needs. */
  dispatches: R[];
  /** Stock once those dispatches have left the warehouse; never negative. */
  stockAfter: Map<Ingredient, number>;
  /** Units leaving the warehouse per ingredient (only ingredients with a positive amount). */
  unitsOut: Map<Ingredient, number>;
  /** How many of the given requests keep waiting for the market. */
  waiting: number;
  /**
   * What is left unclaimed does not make a single dish of the menu: no request further down the
   * queue could be served, so there is no point reading it.
   */
  exhausted: boolean;
}

/**
 * Decides which waiting requests the warehouse can serve from what it holds.
 *
 * `pending` must be oldest first. The walk is FIFO with reservation: a request whose needs all fit
 * in what is still unclaimed is dispatched; one that does not fit claims what it needs of whatever
 * is there, so later requests may only take stock that no earlier waiting request is counting on.
 * Without the claim a steady flow of small recipes could keep taking the tomatoes an older pizza is
 * waiting for, and the pizza would wait forever. A dispatch takes all of a recipe or nothing.
 *
 * `exhausted` tells the caller whether reading more of the queue could serve anyone: not once
 * what is unclaimed cannot make any dish of `menu` (the recipe book by default). A long queue
 * waiting for the market then costs a page per allocation, not a scan of the whole queue.
 */
export function planDispatches<R extends PendingRequest>(
  stock: StockLevels,
  pending: readonly R[],
  menu: ReadonlyArray<readonly IngredientQuantity[]> = Object.values(recipeBook),
): DispatchPlan<R> {
  const unclaimed = new Map(stock);
  const stockAfter = new Map(stock);
  const unitsOut = new Map<Ingredient, number>();
  const dispatches: R[] = [];

  for (const request of pending) {
    const fits = fitsIn(unclaimed, request.needs);
    for (const { ingredient, quantity } of request.needs) {
      const left = unclaimed.get(ingredient) ?? 0;
      unclaimed.set(ingredient, Math.max(0, left - quantity));
      if (fits) {
        stockAfter.set(ingredient, (stockAfter.get(ingredient) ?? 0) - quantity);
        unitsOut.set(ingredient, (unitsOut.get(ingredient) ?? 0) + quantity);
      }
    }
    if (fits) dispatches.push(request);
  }

  const exhausted = !makesAnyDish(unclaimed, menu);
  return { dispatches, stockAfter, unitsOut, waiting: pending.length - dispatches.length, exhausted };
}

/** Whether `stock` holds every ingredient of at least one dish of `menu` (the recipe book by default). */
export function makesAnyDish(
  stock: StockLevels,
  menu: ReadonlyArray<readonly IngredientQuantity[]> = Object.values(recipeBook),
): boolean {
  return menu.some((dish) => fitsIn(stock, dish));
}

function fitsIn(unclaimed: ReadonlyMap<Ingredient, number>, needs: readonly IngredientQuantity[]): boolean {
  return needs.every(({ ingredient, quantity }) => quantity <= (unclaimed.get(ingredient) ?? 0));
}

/**
 * One entry per ingredient, quantities added up, in the order first listed. A message may in principle list
 * an ingredient twice; the warehouse must count it once with the sum, or it would hand over too little.
 */
export function combineNeeds(needs: readonly IngredientQuantity[]): IngredientQuantity[] {
  const total = new Map<Ingredient, number>();
  for (const { ingredient, quantity } of needs) total.set(ingredient, (total.get(ingredient) ?? 0) + quantity);
  return [...total].map(([ingredient, quantity]) => ({ ingredient, quantity }));
}
