import type pg from 'pg';
import type { ListOrdersQuery, Order, OrderCounts, OrderPage } from '@free-lunch/contracts';
import { AppError } from '@free-lunch/service-kit';
import { countOrdersByStatus, findOrder, listOrders } from '../data/orders.js';
import { decodeOrderCursor, encodeOrderCursor } from '../domain/order-cursor.js';

/** One order and its timeline, for `GET /orders/{id}`. */
export async function getOrder(pool: pg.Pool, id: string): Promise<Order> {
  const order = await findOrder(pool, id);
  if (!order) throw new AppError('order_not_found', `There is no order ${id}.`, 404);
  return order;
}

/** A page of orders, newest first; the cursor of one page leads to the next without gaps or repeats. */
export async function browseOrders(pool: pg.Pool, query: ListOrdersQuery): Promise<OrderPage> {
  const after = query.cursor === undefined ? undefined : decodeOrderCursor(query.cursor);
  if (after === null) {
    throw new AppError('invalid_cursor', 'cursor is not one this API handed out; pass nextCursor back as it was.', 400);
  }
  const page = await listOrders(pool, { status: query.status, limit: query.limit, after });
  return { items: page.items, nextCursor: page.next && encodeOrderCursor(page.next) };
}

/** How many orders are in each status, for the dashboard's counters. */
export function summarizeOrders(pool: pg.Pool): Promise<OrderCounts> {
  return countOrdersByStatus(pool);
}
