import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import {
  OrderCounts,
  OrderPage,
  PlaceOrdersResponse,
  RecipesResponse,
  StockAudit,
  StockResponse,
  type OrderSummaryItem,
} from '@free-lunch/contracts';

/** A typed client of the public HTTP API, as scripts, tests and the benchmark use it. */
export class FreeLunchClient {
  constructor(
    readonly urls: { orders: string; kitchen: string; inventory: string },
    private readonly managerToken: string,
  ) {}

  async placeOrders(quantity: number, idempotencyKey?: string): Promise<OrderSummaryItem[]> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.managerToken}`,
      'content-type': 'application/json',
    };
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const response = await fetch(`${this.urls.orders}/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ quantity }),
    });
    if (response.status !== 202) throw new Error(`POST /orders answered ${response.status}: ${await response.text()}`);
    return PlaceOrdersResponse.parse(await response.json()).orders;
  }

  summary() {
    return this.get(`${this.urls.orders}/orders/summary`, OrderCounts);
  }

  /** Every order with the given status, walking the pages newest first. */
  async allOrders(status?: string): Promise<OrderSummaryItem[]> {
    const orders: OrderSummaryItem[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '500' });
      if (status) query.set('status', status);
      if (cursor) query.set('cursor', cursor);
      const page: OrderPage = await this.get(`${this.urls.orders}/orders?${query.toString()}`, OrderPage);
      orders.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return orders;
  }

  recipes() {
    return this.get(`${this.urls.kitchen}/recipes`, RecipesResponse);
  }

  stock() {
    return this.get(`${this.urls.inventory}/stock`, StockResponse);
  }

  audit() {
    return this.get(`${this.urls.inventory}/stock/audit`, StockAudit);
  }

  /** Waits, checking the summary every `intervalMs`, until at least `count` orders are delivered. */
  async waitForDelivered(count: number, { timeoutMs = 60_000, intervalMs = 200 } = {}): Promise<OrderCounts> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const counts = await this.summary();
      if (counts.delivered >= count) return counts;
      if (Date.now() > deadline) {
        throw new Error(`only ${counts.delivered} of ${count} delivered after ${timeoutMs} ms: ${JSON.stringify(counts)}`);
      }
      await sleep(intervalMs);
    }
  }

  private async get<T extends z.ZodType>(url: string, schema: T): Promise<z.infer<T>> {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`);
    return schema.parse(await response.json());
  }
}
