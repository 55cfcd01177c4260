import { z } from 'zod';
import { Ingredient, IngredientQuantity, OrderStatus, RecipeName } from './domain.js';

/**
 * Stream names, without the deployment's key prefix. Work streams are read by one consumer group
 * each; the live-view streams are also tailed without a group by every orders-app replica.
 */
export const streamNames = {
  /** orders-app → kitchen: a new order needs cooking (re-sent by the reconciler to nudge stuck work). */
  orderPlaced: 'orders.placed',
  /** kitchen → inventory: a ticket needs its recipe's ingredients. */
  ingredientsRequested: 'kitchen.ingredients-requested',
  /** inventory → kitchen: every ingredient of a ticket has left the warehouse. */
  ingredientsDispatched: 'inventory.ingredients-dispatched',
  /** kitchen → orders-app (and the live view): an order moved forward. */
  orderStatusChanged: 'kitchen.order-status-changed',
  /** inventory → live view: stock levels after a dispatch or a purchase. */
  stockChanged: 'inventory.stock-changed',
  /** inventory → live view: market attempts, zeros and faults included (v1 one, v2 a round's). */
  purchaseRecorded: 'inventory.purchase-recorded',
} as const;

export type StreamName = (typeof streamNames)[keyof typeof streamNames];

const Timestamp = z.iso.datetime({ offset: true });
const OrderId = z.uuid();

/** orders.placed v1 */
export const OrderPlacedV1 = z.object({
  type: z.literal('order.placed'),
  version: z.literal(1),
  orderId: OrderId,
  placedAt: Timestamp,
});
export type OrderPlacedV1 = z.infer<typeof OrderPlacedV1>;

/** kitchen.ingredients-requested v1 */
export const IngredientsRequestedV1 = z.object({
  type: z.literal('ingredients.requested'),
  version: z.literal(1),
  orderId: OrderId,
  recipe: RecipeName,
  ingredients: z.array(IngredientQuantity).min(1),
  requestedAt: Timestamp,
});
export type IngredientsRequestedV1 = z.infer<typeof IngredientsRequestedV1>;

/** inventory.ingredients-dispatched v1 */
export const IngredientsDispatchedV1 = z.object({
  type: z.literal('ingredients.dispatched'),
  version: z.literal(1),
  orderId: OrderId,
  recipe: RecipeName,
  ingredients: z.array(IngredientQuantity).min(1),
  dispatchedAt: Timestamp,
});
export type IngredientsDispatchedV1 = z.infer<typeof IngredientsDispatchedV1>;

/** kitchen.order-status-changed v1 */
export const OrderStatusChangedV1 = z.object({
  type: z.literal('order.status-changed'),
  version: z.literal(1),
  orderId: OrderId,
  status: OrderStatus,
  /** Known from `awaiting_ingredients` on. */
  recipe: RecipeName.nullable(),
  at: Timestamp,
});
export type OrderStatusChangedV1 = z.infer<typeof OrderStatusChangedV1>;

export const StockLevel = z.object({
  ingredient: Ingredient,
  onHand: z.number().int().nonnegative(),
});
export type StockLevel = z.infer<typeof StockLevel>;

/** inventory.stock-changed v1: a snapshot of every ingredient after a change. */
export const StockChangedV1 = z.object({
  type: z.literal('stock.changed'),
  version: z.literal(1),
  reason: z.enum(['dispatch', 'purchase']),
  stock: z.array(StockLevel),
  at: Timestamp,
});
export type StockChangedV1 = z.infer<typeof StockChangedV1>;

export const PurchaseOutcome = z.enum(['sold', 'none', 'fault']);
export type PurchaseOutcome = z.infer<typeof PurchaseOutcome>;

/** One market attempt as recorded by the warehouse. */
export const PurchaseRecord = z.object({
  id: z.string(),
  ingredient: Ingredient,
  quantitySold: z.number().int().nonnegative(),
  outcome: PurchaseOutcome,
  /** Why a fault was a fault (HTTP status, timeout, bad body); null otherwise. */
  error: z.string().nullable(),
  at: Timestamp,
});
export type PurchaseRecord = z.infer<typeof PurchaseRecord>;

/** inventory.purchase-recorded v1 */
export const PurchaseRecordedV1 = z.object({
  type: z.literal('purchase.recorded'),
  version: z.literal(1),
  purchase: PurchaseRecord,
});
export type PurchaseRecordedV1 = z.infer<typeof PurchaseRecordedV1>;

/**
 * inventory.purchase-recorded v2: every attempt of one purchase round, in the order the market
 * answered. A busy warehouse makes thousands of calls a second in rounds of up to a few hundred;
 * one entry per round instead of one per call keeps the live view's stream as small as its news.
 */
export const PurchasesRecordedV2 = z.object({
  type: z.literal('purchases.recorded'),
  version: z.literal(2),
  purchases: z.array(PurchaseRecord).min(1),
});
export type PurchasesRecordedV2 = z.infer<typeof PurchasesRecordedV2>;

/** The purchases one `inventory.purchase-recorded` entry carries, whichever version it is. */
export function purchasesOf(message: PurchaseRecordedV1 | PurchasesRecordedV2): PurchaseRecord[] {
  return message.version === 1 ? [message.purchase] : message.purchases;
}

/**
 * Every stream with the schema of what may be written to it. A new version of a message is added
 * to its stream's union, so consumers keep reading the old one while producers move on.
 */
export const streamContracts = {
  [streamNames.orderPlaced]: z.discriminatedUnion('version', [OrderPlacedV1]),
  [streamNames.ingredientsRequested]: z.discriminatedUnion('version', [IngredientsRequestedV1]),
  [streamNames.ingredientsDispatched]: z.discriminatedUnion('version', [IngredientsDispatchedV1]),
  [streamNames.orderStatusChanged]: z.discriminatedUnion('version', [OrderStatusChangedV1]),
  [streamNames.stockChanged]: z.discriminatedUnion('version', [StockChangedV1]),
  [streamNames.purchaseRecorded]: z.discriminatedUnion('version', [PurchaseRecordedV1, PurchasesRecordedV2]),
} as const;

export type StreamContracts = typeof streamContracts;
/** The message type carried by a stream. */
export type MessageOf<S extends StreamName> = z.infer<StreamContracts[S]>;

/** A message that could not be handled, as written to `<stream>.dead-letter`. */
export const DeadLetter = z.object({
  stream: z.string(),
  group: z.string(),
  messageId: z.string(),
  /** The raw entry fields as they were read. */
  fields: z.record(z.string(), z.string()),
  reason: z.string(),
  deliveries: z.number().int().nonnegative(),
  at: Timestamp,
});
export type DeadLetter = z.infer<typeof DeadLetter>;
