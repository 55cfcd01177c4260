import { isForwardStatus, type OrderStatus, type OrderStatusChangedV1, type RecipeName } from '@free-lunch/contracts';

/** What the orders service knows about an order before a batch of status events is applied. */
export interface OrderProgress {
  status: OrderStatus;
  recipe: RecipeName | null;
}

/** One line of an order's timeline: the order reached `status` at `at`. */
export interface TimelineLine {
  orderId: string;
  status: OrderStatus;
  at: string;
}

/** The new state of an order that moved forward or whose recipe became known. */
export interface OrderAdvance {
  orderId: string;
  status: OrderStatus;
  recipe: RecipeName | null;
}

export interface StatusChangePlan {
  /** Every status each known order reached, once per (order, status); duplicates are harmless. */
  timeline: TimelineLine[];
  /** Orders whose row changes: a higher status, or a recipe learnt. */
  advances: OrderAdvance[];
  /** Events about orders this service never placed; nothing to apply them to. */
  unknownOrderIds: string[];
}

/**
 * Decides what a batch of kitchen status events changes, given the orders as they are now.
 *
 * Delivery is at least once and not in order, so the decision is keyed by order id and only ever
 * moves a status forward: a late `cooking` after `delivered` still goes on the timeline (it did
 * happen) but leaves the order delivered, and the same event twice has the effect of once.
 */
export function planStatusChanges(
  current: ReadonlyMap<string, OrderProgress>,
  events: readonly OrderStatusChangedV1[],
): StatusChangePlan {
  const timeline = new Map<string, TimelineLine>();
  const next = new Map<string, OrderProgress>();
  const unknown = new Set<string>();

  for (const event of events) {
    const before = next.get(event.orderId) ?? current.get(event.orderId);
    if (before === undefined) {
      unknown.add(event.orderId);
      continue;
    }
    const line = `${event.orderId}/${event.status}`;
    if (!timeline.has(line)) {
      timeline.set(line, { orderId: event.orderId, status: event.status, at: event.at });
    }
    next.set(event.orderId, {
      status: isForwardStatus(before.status, event.status) ? event.status : before.status,
      recipe: before.recipe ?? event.recipe,
    });
  }

  const advances: OrderAdvance[] = [];
  for (const [orderId, after] of next) {
    const before = current.get(orderId)!;
    if (after.status !== before.status || after.recipe !== before.recipe) {
      advances.push({ orderId, status: after.status, recipe: after.recipe });
    }
  }
  return { timeline: [...timeline.values()], advances, unknownOrderIds: [...unknown] };
}
