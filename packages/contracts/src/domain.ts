import { z } from 'zod';

/** The ten ingredients the warehouse stocks. */
export const ingredients = [
  'tomato',
  'lemon',
  'potato',
  'rice',
  'ketchup',
  'lettuce',
  'onion',
  'cheese',
  'meat',
  'chicken',
] as const;

export const Ingredient = z.enum(ingredients);
export type Ingredient = z.infer<typeof Ingredient>;

/** Units of each ingredient the warehouse holds before anything is bought or dispatched. */
export const INITIAL_STOCK_PER_INGREDIENT = 5;

/** The six recipes the kitchen cooks; together they use every ingredient. */
export const recipeNames = [
  'rice_with_chicken',
  'rice_with_meat',
  'burger',
  'french_fries',
  'pizza',
  'salad',
] as const;

export const RecipeName = z.enum(recipeNames);
export type RecipeName = z.infer<typeof RecipeName>;

/** A whole number of units of one ingredient. */
export const IngredientQuantity = z.object({
  ingredient: Ingredient,
  quantity: z.number().int().positive(),
});
export type IngredientQuantity = z.infer<typeof IngredientQuantity>;

/** What each recipe needs, in units per dish. */
export const recipeBook: Readonly<Record<RecipeName, readonly IngredientQuantity[]>> = {
  rice_with_chicken: [
    { ingredient: 'rice', quantity: 2 },
    { ingredient: 'onion', quantity: 1 },
    { ingredient: 'chicken', quantity: 1 },
  ],
  rice_with_meat: [
    { ingredient: 'rice', quantity: 2 },
    { ingredient: 'meat', quantity: 1 },
    { ingredient: 'onion', quantity: 1 },
  ],
  burger: [
    { ingredient: 'meat', quantity: 1 },
    { ingredient: 'cheese', quantity: 1 },
    { ingredient: 'ketchup', quantity: 1 },
    { ingredient: 'lettuce', quantity: 1 },
  ],
  french_fries: [
    { ingredient: 'potato', quantity: 3 },
    { ingredient: 'ketchup', quantity: 1 },
  ],
  pizza: [
    { ingredient: 'cheese', quantity: 2 },
    { ingredient: 'tomato', quantity: 3 },
  ],
  salad: [
    { ingredient: 'lemon', quantity: 1 },
    { ingredient: 'onion', quantity: 1 },
    { ingredient: 'tomato', quantity: 2 },
    { ingredient: 'lettuce', quantity: 2 },
  ],
};

/** An order's lifecycle; statuses only move forward, in this order. */
export const orderStatuses = ['queued', 'awaiting_ingredients', 'cooking', 'delivered'] as const;

export const OrderStatus = z.enum(orderStatuses);
export type OrderStatus = z.infer<typeof OrderStatus>;

/** Position of a status in the lifecycle: a change is allowed only to a higher rank. */
export function statusRank(status: OrderStatus): number {
  return orderStatuses.indexOf(status);
}

/** True when moving from `from` to `to` is a forward step of the lifecycle. */
export function isForwardStatus(from: OrderStatus, to: OrderStatus): boolean {
  return statusRank(to) > statusRank(from);
}
