import type pg from 'pg';
import type { PurchasePage, StockResponse } from '@free-lunch/contracts';
import { AppError } from '@free-lunch/service-kit';
import { listPurchases } from '../data/purchases.js';
import { readStock } from '../data/stock.js';
import { decodePurchaseCursor, encodePurchaseCursor } from '../domain/purchase-cursor.js';

/** What is on the shelves right now. */
export async function showStock(pool: pg.Pool): Promise<StockResponse> {
  return { stock: await readStock(pool) };
}

/**
 * A page of the market history, newest first. `nextCursor` continues after the last item and is
 * null on the last page, so a client pages until it gets null.
 */
export async function browsePurchases(pool: pg.Pool, query: { limit: number; cursor?: string }): Promise<PurchasePage> {
  const before = query.cursor === undefined ? null : decodePurchaseCursor(query.cursor);
  if (query.cursor !== undefined && before === null) {
    throw new AppError('invalid_cursor', 'cursor is not one this service issued; pass back a nextCursor unchanged.', 400);
  }
  // One extra row tells whether another page exists without a count query.
  const rows = await listPurchases(pool, query.limit + 1, before);
  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > query.limit && last ? encodePurchaseCursor(last.id) : null };
}
