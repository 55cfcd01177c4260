import { z } from 'zod';
import { Ingredient, IngredientQuantity, OrderStatus, RecipeName } from './domain.js';
import { PurchaseRecord, StockLevel } from './messages.js';

const Timestamp = z.iso.datetime({ offset: true });

/** Every 4xx/5xx body: a stable machine code and a sentence for people. */
export const ErrorBody = z.object({
  error: z.string().describe('Stable machine-readable code, e.g. "validation_failed"'),
  message: z.string(),
  details: z.unknown().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** `POST /orders` body; the upper bound is the service's configured maximum. */
export function placeOrdersBody(maxQuantity: number) {
  return z
    .object({
      quantity: z
        .number({ error: 'quantity must be a number' })
        .int('quantity must be a whole number')
        .min(1, 'quantity must be at least 1')
        .max(maxQuantity, `quantity must be at most ${maxQuantity}`)
        .default(1),
    })
    .strict();
}
export type PlaceOrdersBody = z.infer<ReturnType<typeof placeOrdersBody>>;

export const TimelineEntry = z.object({ status: OrderStatus, at: Timestamp });
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/** An order as listed: no timeline. */
export const OrderSummaryItem = z.object({
  id: z.uuid(),
  status: OrderStatus,
  recipe: RecipeName.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type OrderSummaryItem = z.infer<typeof OrderSummaryItem>;

/** `GET /orders/{id}`: the order with its status timeline, oldest first. */
export const Order = OrderSummaryItem.extend({ timeline: z.array(TimelineEntry) });
export type Order = z.infer<typeof Order>;

export const PlaceOrdersResponse = z.object({ orders: z.array(OrderSummaryItem) });
export type PlaceOrdersResponse = z.infer<typeof PlaceOrdersResponse>;

export const OrderIdParams = z.object({ id: z.uuid({ error: 'id must be a UUID' }) });

const Limit = z.coerce.number().int().min(1).max(500).default(50);

export const ListOrdersQuery = z
  .object({
    status: OrderStatus.optional(),
    limit: Limit,
    cursor: z.string().min(1).optional(),
  })
  .strict();
export type ListOrdersQuery = z.infer<typeof ListOrdersQuery>;

/** A page of orders, newest first; pass `nextCursor` back as `cursor` for the next page. */
export const OrderPage = z.object({
  items: z.array(OrderSummaryItem),
  nextCursor: z.string().nullable(),
});
export type OrderPage = z.infer<typeof OrderPage>;

export const OrderCounts = z.object({
  queued: z.number().int(),
  awaiting_ingredients: z.number().int(),
  cooking: z.number().int(),
  delivered: z.number().int(),
  total: z.number().int(),
});
export type OrderCounts = z.infer<typeof OrderCounts>;

export const Recipe = z.object({ name: RecipeName, ingredients: z.array(IngredientQuantity) });
export type Recipe = z.infer<typeof Recipe>;
export const RecipesResponse = z.object({ recipes: z.array(Recipe) });
export type RecipesResponse = z.infer<typeof RecipesResponse>;

export const StockResponse = z.object({ stock: z.array(StockLevel) });
export type StockResponse = z.infer<typeof StockResponse>;

export const ListPurchasesQuery = z
  .object({ limit: Limit, cursor: z.string().min(1).optional() })
  .strict();
export type ListPurchasesQuery = z.infer<typeof ListPurchasesQuery>;

/** Market attempts, newest first. */
export const PurchasePage = z.object({
  items: z.array(PurchaseRecord),
  nextCursor: z.string().nullable(),
});
export type PurchasePage = z.infer<typeof PurchasePage>;

/** Per ingredient: `initial + bought − dispatched` must equal `onHand`. */
export const IngredientAudit = z.object({
  ingredient: Ingredient,
  initial: z.number().int(),
  bought: z.number().int(),
  dispatched: z.number().int(),
  onHand: z.number().int(),
  expected: z.number().int(),
  ok: z.boolean(),
});
export type IngredientAudit = z.infer<typeof IngredientAudit>;

export const StockAudit = z.object({ ok: z.boolean(), ingredients: z.array(IngredientAudit) });
export type StockAudit = z.infer<typeof StockAudit>;

export const HealthResponse = z.object({ status: z.literal('ok'), service: z.string() });
export const ReadyResponse = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.boolean()),
});

/**
 * `GET /config` (orders-app, no token): what the manager's dashboard needs to know before it starts:
 * the largest order it may place, and where the kitchen and the warehouse answer its reads.
 */
export const DashboardConfig = z.object({
  maxOrderQuantity: z.number().int().positive(),
  kitchenUrl: z.url().describe('Base URL of kitchen-app as the browser reaches it (GET /recipes)'),
  inventoryUrl: z.url().describe('Base URL of inventory-app as the browser reaches it (GET /stock, /purchases)'),
});
export type DashboardConfig = z.infer<typeof DashboardConfig>;
