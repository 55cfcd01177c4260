import {
  DashboardConfig,
  ErrorBody,
  OrderCounts,
  OrderPage,
  PlaceOrdersResponse,
  PurchasePage,
  RecipesResponse,
  StockResponse,
  type OrderStatus,
  type OrderSummaryItem,
} from '@free-lunch/contracts';

/** A request that got an answer the page cannot use: the API's own error when it gave one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type PlaceOutcome =
  | { ok: true; orders: OrderSummaryItem[] }
  | { ok: false; reason: 'unauthorized' | 'rejected' | 'network'; message: string };

/** Reads the dashboard's settings from the orders service that served the page. */
export async function loadDashboardConfig(): Promise<DashboardConfig> {
  return getJson('/config', DashboardConfig);
}

/**
 * The public HTTP API as the dashboard uses it: orders from the service that served the page,
 * recipes from the kitchen and stock and purchases from the warehouse (those two answer
 * cross-origin reads). Every answer is checked against its contract.
 */
export class DashboardApi {
  constructor(private readonly config: DashboardConfig) {}

  get maxOrderQuantity(): number {
    return this.config.maxOrderQuantity;
  }

  summary() {
    return getJson('/orders/summary', OrderCounts);
  }

  ordersPage(query: { status?: OrderStatus; limit: number; cursor?: string | null }) {
    const params = new URLSearchParams({ limit: String(query.limit) });
    if (query.status) params.set('status', query.status);
    if (query.cursor) params.set('cursor', query.cursor);
    return getJson(`/orders?${params}`, OrderPage);
  }

  /** Every order with `status`, newest first, stopping after `max`. */
  async allOrders(status: OrderStatus, max: number): Promise<OrderSummaryItem[]> {
    const orders: OrderSummaryItem[] = [];
    let cursor: string | null = null;
    do {
      const page: OrderPage = await this.ordersPage({ status, limit: 500, cursor });
      orders.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && orders.length < max);
    return orders;
  }

  recipes() {
    return getJson(`${this.config.kitchenUrl}/recipes`, RecipesResponse);
  }

  stock() {
    return getJson(`${this.config.inventoryUrl}/stock`, StockResponse);
  }

  purchases(limit: number) {
    return getJson(`${this.config.inventoryUrl}/purchases?limit=${limit}`, PurchasePage);
  }

  /** POST /orders with an idempotency key, so a retried click never orders twice. */
  async placeOrders(token: string, quantity: number): Promise<PlaceOutcome> {
    let response: Response;
    try {
      response = await fetch('/orders', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': idempotencyKey(),
        },
        body: JSON.stringify({ quantity }),
      });
    } catch {
      return { ok: false, reason: 'network', message: 'network' };
    }
    if (response.status === 202) return { ok: true, orders: PlaceOrdersResponse.parse(await response.json()).orders };
    const error = await errorOf(response);
    return { ok: false, reason: response.status === 401 ? 'unauthorized' : 'rejected', message: error.message };
  }
}

/** Any contract schema: only its parse is needed. */
interface Contract<T> {
  parse(data: unknown): T;
}

async function getJson<T>(url: string, schema: Contract<T>): Promise<T> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw await errorOf(response);
  return schema.parse(await response.json());
}

async function errorOf(response: Response): Promise<ApiError> {
  const body = ErrorBody.safeParse(await response.json().catch(() => null));
  return body.success
    ? new ApiError(response.status, body.data.error, body.data.message)
    : new ApiError(response.status, 'http_error', `HTTP ${response.status}`);
}

/** Random and unique enough; crypto.randomUUID exists only on https and localhost. */
function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `dashboard-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}
