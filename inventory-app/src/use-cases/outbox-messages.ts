import {
  streamNames,
  type Ingredient,
  type IngredientQuantity,
  type PurchaseRecord,
  type RecipeName,
} from '@free-lunch/contracts';
import type { OutgoingMessage } from '@free-lunch/streams';
import { toStockLevels } from '../data/stock.js';

/** Tells the kitchen every ingredient of an order has left the warehouse. */
export function ingredientsDispatched(dispatch: {
  orderId: string;
  recipe: RecipeName;
  needs: readonly IngredientQuantity[];
  dispatchedAt: Date;
}): OutgoingMessage {
  return {
    stream: streamNames.ingredientsDispatched,
    message: {
      type: 'ingredients.dispatched',
      version: 1,
      orderId: dispatch.orderId,
      recipe: dispatch.recipe,
      ingredients: [...dispatch.needs],
      dispatchedAt: dispatch.dispatchedAt.toISOString(),
    },
  };
}

/** A snapshot of every ingredient for the live view, after a dispatch or a purchase. */
export function stockChanged(
  reason: 'dispatch' | 'purchase',
  stock: ReadonlyMap<Ingredient, number>,
  at: Date,
): OutgoingMessage {
  return {
    stream: streamNames.stockChanged,
    message: { type: 'stock.changed', version: 1, reason, stock: toStockLevels(stock), at: at.toISOString() },
  };
}

/** Every market attempt of a round for the live view, zeros and faults included, as one message. */
export function purchasesRecorded(purchases: PurchaseRecord[]): OutgoingMessage {
  return { stream: streamNames.purchaseRecorded, message: { type: 'purchases.recorded', version: 2, purchases } };
}
