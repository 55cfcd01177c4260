import { describe, expect, it } from 'vitest';
import type { LiveEvent, OrderStatus, OrderSummaryItem, PurchaseRecord, RecipeName } from '@free-lunch/contracts';
import { limits, Restaurant, type RestaurantSnapshot } from '../src/model/restaurant.js';
import { waitingFor } from '../src/model/waiting-for.js';

const T0 = Date.parse('2025-01-01T12:00:00.000Z');
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
const orderId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function statusEvent(id: string, order: number, status: OrderStatus, recipe: RecipeName | null = 'pizza', atMs = 0): LiveEvent {
  return {
    stream: 'kitchen.order-status-changed',
    id,
    message: { type: 'order.status-changed', version: 1, orderId: orderId(order), status, recipe, at: iso(atMs) },
  };
}

function purchase(n: number, outcome: PurchaseRecord['outcome'], quantitySold = 0): PurchaseRecord {
  return {
    id: String(n),
    ingredient: 'tomato',
    quantitySold,
    outcome,
    error: outcome === 'fault' ? 'HTTP 500' : null,
    at: iso(n),
  };
}

function purchaseEvent(id: string, record: PurchaseRecord): LiveEvent {
  return { stream: 'inventory.purchase-recorded', id, message: { type: 'purchase.recorded', version: 1, purchase: record } };
}

/** A whole purchase round in one entry, as the warehouse writes them now (v2). */
function roundEvent(id: string, records: PurchaseRecord[]): LiveEvent {
  return { stream: 'inventory.purchase-recorded', id, message: { type: 'purchases.recorded', version: 2, purchases: records } };
}

function placed(n: number, status: OrderStatus = 'queued', recipe: RecipeName | null = null): OrderSummaryItem {
  return { id: orderId(n), status, recipe, createdAt: iso(0), updatedAt: iso(0) };
}

const emptySnapshot: RestaurantSnapshot = {
  counts: { queued: 0, awaiting_ingredients: 0, cooking: 0, delivered: 0, total: 0 },
  preparing: [],
  delivered: [],
  stock: [],
  purchases: [],
};

/** Passes events through the page's two steps: dedupe on receipt, then apply. */
function receive(restaurant: Restaurant, events: LiveEvent[]): void {
  restaurant.apply(restaurant.acceptNew(events));
}

describe('the restaurant as the dashboard sees it', () => {
  it('when a replay after a reconnect overlaps events already applied, then each one counts once', () => {
    const restaurant = new Restaurant();
    restaurant.loadSnapshot(emptySnapshot);
    restaurant.startFrom({ 'kitchen.order-status-changed': '100-0' });
    receive(restaurant, [statusEvent('101-0', 1, 'awaiting_ingredients'), statusEvent('102-0', 1, 'cooking')]);
    receive(restaurant, [statusEvent('103-0', 1, 'delivered'), statusEvent('103-1', 2, 'delivered')]);

    // The gateway replays from an older position: everything up to 103-1 is already here.
    const fresh = restaurant.acceptNew([
      statusEvent('102-0', 1, 'cooking'),
      statusEvent('103-0', 1, 'delivered'),
      statusEvent('103-1', 2, 'delivered'),
      statusEvent('104-0', 3, 'delivered'),
    ]);
    expect(fresh.map((event) => event.id)).toEqual(['104-0']);
    restaurant.apply(fresh);

    expect(restaurant.deliveredCount).toBe(3);
    expect(restaurant.recentDelivered.map((order) => order.id)).toEqual([orderId(3), orderId(2), orderId(1)]);
    expect(restaurant.positions['kitchen.order-status-changed']).toBe('104-0');
  });

  it('when the kitchen re-sends a delivery under a new entry id, then the order is delivered once', () => {
    const restaurant = new Restaurant();
    restaurant.loadSnapshot(emptySnapshot);
    receive(restaurant, [statusEvent('1-0', 1, 'delivered'), statusEvent('5-0', 1, 'delivered'), statusEvent('6-0', 1, 'cooking')]);

    expect(restaurant.deliveredCount).toBe(1);
    expect(restaurant.preparing.size).toBe(0);
  });

  it('when the answer to POST /orders arrives after the orders first events, then each order is placed once and keeps its progress', () => {
    const restaurant = new Restaurant();
    restaurant.loadSnapshot(emptySnapshot);
    receive(restaurant, [statusEvent('1-0', 1, 'awaiting_ingredients', 'burger')]);
    restaurant.notePlaced([placed(1), placed(2)]);

    expect(restaurant.preparing.size).toBe(2);
    expect(restaurant.countByStatus()).toEqual({ queued: 1, awaiting_ingredients: 1, cooking: 0 });
    expect(restaurant.preparing.get(orderId(1))?.recipe).toBe('burger');
    const placedThisSecond = restaurant.throughput.get(Math.floor(T0 / 1000))?.placed;
    expect(placedThisSecond).toBe(2);
  });

  it('when a delivery already counted by the snapshot arrives as an event, then it is not counted again', () => {
    const restaurant = new Restaurant();
    restaurant.startFrom({ 'kitchen.order-status-changed': '1-0' });
    // Received while the snapshot loads…
    const held = restaurant.acceptNew([statusEvent('2-0', 1, 'delivered'), statusEvent('3-0', 2, 'cooking')]);
    // …and the snapshot already shows order 1 delivered (and still lists it as cooking: read earlier).
    restaurant.loadSnapshot({
      ...emptySnapshot,
      counts: { queued: 0, awaiting_ingredients: 0, cooking: 2, delivered: 1, total: 3 },
      preparing: [placed(1, 'cooking', 'pizza'), placed(2, 'awaiting_ingredients', 'salad')],
      delivered: [{ ...placed(1, 'delivered', 'pizza') }],
    });
    restaurant.apply(held);

    expect(restaurant.deliveredCount).toBe(1);
    expect([...restaurant.preparing.keys()]).toEqual([orderId(2)]);
    expect(restaurant.countByStatus().cooking).toBe(1);
  });

  it('when market attempts sell nothing or fault, then they are listed with the sales, newest first, once each and capped', () => {
    const restaurant = new Restaurant();
    restaurant.loadSnapshot({ ...emptySnapshot, purchases: [purchase(2, 'none'), purchase(1, 'sold', 3)] });
    receive(restaurant, [purchaseEvent('10-0', purchase(3, 'fault')), purchaseEvent('11-0', purchase(2, 'none'))]);

    expect(restaurant.purchases.map((record) => [record.id, record.outcome])).toEqual([
      ['3', 'fault'],
      ['2', 'none'],
      ['1', 'sold'],
    ]);

    receive(
      restaurant,
      Array.from({ length: limits.purchases + 50 }, (_, index) => purchaseEvent(`${100 + index}-0`, purchase(100 + index, 'none'))),
    );
    expect(restaurant.purchases).toHaveLength(limits.purchases);
    expect(restaurant.purchases[0]!.id).toBe(String(limits.purchases + 149));
  });

  it('when a whole purchase round arrives as one entry, then each of its attempts is listed, after the single ones before it', () => {
    const restaurant = new Restaurant();
    receive(restaurant, [
      purchaseEvent('10-0', purchase(1, 'none')),
      roundEvent('11-0', [purchase(2, 'sold', 4), purchase(3, 'fault'), purchase(4, 'none')]),
    ]);

    expect(restaurant.purchases.map((record) => [record.id, record.outcome])).toEqual([
      ['4', 'none'],
      ['3', 'fault'],
      ['2', 'sold'],
      ['1', 'none'],
    ]);
  });

  it('when an order awaits ingredients, then it is waiting for those the warehouse has fewer of than its recipe needs', () => {
    const stock = new Map([
      ['cheese', 1],
      ['tomato', 7],
    ] as const);
    expect(
      waitingFor(
        [
          { ingredient: 'cheese', quantity: 2 },
          { ingredient: 'tomato', quantity: 3 },
        ],
        stock,
      ),
    ).toEqual(['cheese']);
  });
});
