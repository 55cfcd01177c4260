import {
  liveStreamNames,
  purchasesOf,
  statusRank,
  streamNames,
  type Ingredient,
  type LiveEvent,
  type LiveStreamName,
  type OrderCounts,
  type OrderStatus,
  type OrderStatusChangedV1,
  type OrderSummaryItem,
  type PurchaseRecord,
  type RecipeName,
  type StockLevel,
} from '@free-lunch/contracts';
import { BoundedSet } from './bounded.js';
import { isAfterEntry } from './entry-ids.js';

export type PreparingStatus = Exclude<OrderStatus, 'delivered'>;
export const preparingStatuses: readonly PreparingStatus[] = ['queued', 'awaiting_ingredients', 'cooking'];

/** An order the kitchen has not delivered yet, as the page knows it. */
export interface PreparingOrder {
  id: string;
  status: PreparingStatus;
  recipe: RecipeName | null;
  /** When it was placed; null for an order the page first heard of from a status change. */
  placedAt: number | null;
  /** When the page first heard of it (the placing time when known). */
  firstSeenAt: number;
}

export interface DeliveredOrder {
  id: string;
  recipe: RecipeName | null;
  placedAt: number | null;
  deliveredAt: number;
  /** Where it sits in the history: when it was placed, or (unknown) when the page first heard of it. */
  listedAt: number;
}

/** What the REST API says when the page first connects; live events are applied on top of it. */
export interface RestaurantSnapshot {
  counts: OrderCounts;
  /** Orders not delivered yet, every status. */
  preparing: OrderSummaryItem[];
  /** The newest delivered orders (a first page). */
  delivered: OrderSummaryItem[];
  stock: StockLevel[];
  /** The newest market attempts. */
  purchases: PurchaseRecord[];
}

/** Orders placed and delivered during one second (server time). */
export interface SecondCounts {
  placed: number;
  delivered: number;
}

/** How much the page keeps; everything beyond is still counted, only not listed. */
export const limits = {
  recentDelivered: 200,
  purchases: 200,
  /** Delivered order ids remembered to ignore a repeated `delivered` (the kitchen re-sends on redelivery). */
  deliveredIds: 100_000,
  /** Seconds of throughput history. */
  seconds: 120,
} as const;

/**
 * The restaurant as the dashboard sees it: a REST snapshot taken when it first connects, moved
 * forward by the live stream's events. Every event is applied at most once: by stream entry id
 * (a replay overlapping what was received is dropped) and by order (statuses only move forward, so a
 * repeated or late status change is ignored). Knows nothing about React or the network.
 */
export class Restaurant {
  /** Per live stream, the id of the last entry applied: where a reconnect resumes. */
  readonly positions: Partial<Record<LiveStreamName, string>> = {};
  readonly preparing = new Map<string, PreparingOrder>();
  deliveredCount = 0;
  private readonly deliveredIds = new BoundedSet<string>(limits.deliveredIds);
  recentDelivered: DeliveredOrder[] = [];
  stock: Map<Ingredient, number> | null = null;
  stockChangedAt: number | null = null;
  purchases: PurchaseRecord[] = [];
  private readonly purchaseIds = new Set<string>();
  /** Keyed by whole second (epoch seconds). */
  readonly throughput = new Map<number, SecondCounts>();
  /** Orders in preparation, sampled once a second: [epoch second, count]. */
  backlog: Array<[number, number]> = [];

  /** Starts the streams where the gateway says they are now (first connection only). */
  startFrom(positions: Partial<Record<LiveStreamName, string>>): void {
    for (const stream of liveStreamNames) {
      const id = positions[stream];
      if (id !== undefined && this.positions[stream] === undefined) this.positions[stream] = id;
    }
  }

  /** True once positions exist for every live stream, i.e. a reconnect can resume without gaps. */
  canResume(): boolean {
    return liveStreamNames.every((stream) => this.positions[stream] !== undefined);
  }

  /**
   * Keeps only the events after the last applied id of their stream and moves the positions on.
   * Call on receipt, before deciding when to apply them.
   */
  acceptNew(events: readonly LiveEvent[]): LiveEvent[] {
    const fresh: LiveEvent[] = [];
    for (const event of events) {
      if (!isAfterEntry(event.id, this.positions[event.stream])) continue;
      this.positions[event.stream] = event.id;
      fresh.push(event);
    }
    return fresh;
  }

  loadSnapshot(snapshot: RestaurantSnapshot): void {
    this.deliveredCount = snapshot.counts.delivered;
    for (const order of snapshot.delivered) {
      this.deliveredIds.add(order.id);
      this.preparing.delete(order.id);
    }
    // Already in the order GET /orders lists them, which the live history keeps.
    this.recentDelivered = snapshot.delivered.slice(0, limits.recentDelivered).map((order) => {
      const placedAt = Date.parse(order.createdAt);
      return { id: order.id, recipe: order.recipe, placedAt, deliveredAt: Date.parse(order.updatedAt), listedAt: placedAt };
    });
    // Oldest first, so the map's order is the order in which dishes were asked for.
    const preparing = [...snapshot.preparing].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    for (const order of preparing) {
      if (order.status === 'delivered' || this.deliveredIds.has(order.id)) continue;
      this.remember(order, order.status);
    }
    this.setStock(snapshot.stock, null);
    this.addPurchases([...snapshot.purchases].reverse());
  }

  /** Applies events already passed through {@link acceptNew}, in stream order. */
  apply(events: readonly LiveEvent[]): void {
    const purchases: PurchaseRecord[] = [];
    for (const event of events) {
      switch (event.stream) {
        case streamNames.orderStatusChanged:
          this.applyStatusChange(event.message);
          break;
        case streamNames.stockChanged:
          this.setStock(event.message.stock, Date.parse(event.message.at));
          break;
        case streamNames.purchaseRecorded:
          purchases.push(...purchasesOf(event.message));
          break;
      }
    }
    this.addPurchases(purchases);
  }

  /** Orders this page just placed (POST /orders answered before or after their first events). */
  notePlaced(orders: readonly OrderSummaryItem[]): void {
    for (const order of orders) {
      if (this.deliveredIds.has(order.id)) continue;
      const known = this.preparing.get(order.id);
      if (known) {
        known.placedAt ??= Date.parse(order.createdAt);
        continue;
      }
      if (order.status === 'delivered') continue;
      this.remember(order, order.status);
      this.count(Date.parse(order.createdAt), 'placed');
    }
  }

  countByStatus(): Record<PreparingStatus, number> {
    const counts: Record<PreparingStatus, number> = { queued: 0, awaiting_ingredients: 0, cooking: 0 };
    for (const order of this.preparing.values()) counts[order.status] += 1;
    return counts;
  }

  /** Records how many orders are in preparation at `second`; keeps the last {@link limits.seconds}. */
  sampleBacklog(second: number): void {
    const last = this.backlog.at(-1);
    if (last && last[0] === second) last[1] = this.preparing.size;
    else this.backlog.push([second, this.preparing.size]);
    if (this.backlog.length > limits.seconds) this.backlog.splice(0, this.backlog.length - limits.seconds);
    for (const key of this.throughput.keys()) if (key < second - limits.seconds) this.throughput.delete(key);
  }

  private applyStatusChange(change: OrderStatusChangedV1): void {
    const at = Date.parse(change.at);
    if (this.deliveredIds.has(change.orderId)) {
      // Already delivered: a repeat of an old event. The snapshot may still list the order as
      // preparing if the orders database caught up between two of its reads.
      this.preparing.delete(change.orderId);
      return;
    }
    const known = this.preparing.get(change.orderId);
    if (known && statusRank(change.status) <= statusRank(known.status)) return;
    if (!known) this.count(at, 'placed');

    if (change.status === 'delivered') {
      this.preparing.delete(change.orderId);
      this.deliveredIds.add(change.orderId);
      this.deliveredCount += 1;
      this.count(at, 'delivered');
      this.listDelivered({
        id: change.orderId,
        recipe: change.recipe ?? known?.recipe ?? null,
        placedAt: known?.placedAt ?? null,
        deliveredAt: at,
        listedAt: known?.placedAt ?? known?.firstSeenAt ?? at,
      });
      return;
    }
    if (known) {
      known.status = change.status;
      known.recipe = change.recipe ?? known.recipe;
    } else {
      this.preparing.set(change.orderId, {
        id: change.orderId,
        status: change.status,
        recipe: change.recipe,
        placedAt: null,
        firstSeenAt: at,
      });
    }
  }

  /**
   * Newest placed first, ties by id, as `GET /orders` lists them: the live first page of the
   * history then leads straight on to the API's second page.
   */
  private listDelivered(order: DeliveredOrder): void {
    const list = this.recentDelivered;
    let index = 0;
    while (index < list.length && listedBefore(list[index]!, order)) index += 1;
    if (index >= limits.recentDelivered) return;
    list.splice(index, 0, order);
    if (list.length > limits.recentDelivered) list.length = limits.recentDelivered;
  }

  private remember(order: OrderSummaryItem, status: PreparingStatus): void {
    const placedAt = Date.parse(order.createdAt);
    this.preparing.set(order.id, { id: order.id, status, recipe: order.recipe, placedAt, firstSeenAt: placedAt });
  }

  private setStock(levels: readonly StockLevel[], at: number | null): void {
    this.stock = new Map(levels.map((level) => [level.ingredient, level.onHand]));
    this.stockChangedAt = at;
  }

  /** `records` oldest first, as the stream carries them. */
  private addPurchases(records: readonly PurchaseRecord[]): void {
    const fresh = records.filter((record) => !this.purchaseIds.has(record.id));
    if (fresh.length === 0) return;
    for (const record of fresh) this.purchaseIds.add(record.id);
    // The stream is in the order attempts were recorded; the list is newest first.
    this.purchases = [...fresh.reverse(), ...this.purchases].slice(0, limits.purchases);
    if (this.purchaseIds.size > limits.purchases * 2) {
      this.purchaseIds.clear();
      for (const record of this.purchases) this.purchaseIds.add(record.id);
    }
  }

  private count(at: number, what: keyof SecondCounts): void {
    const second = Math.floor(at / 1000);
    const bucket = this.throughput.get(second) ?? { placed: 0, delivered: 0 };
    bucket[what] += 1;
    this.throughput.set(second, bucket);
  }
}

function listedBefore(a: DeliveredOrder, b: DeliveredOrder): boolean {
  return a.listedAt !== b.listedAt ? a.listedAt > b.listedAt : a.id > b.id;
}
