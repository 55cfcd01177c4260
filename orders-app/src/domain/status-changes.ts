import { isForwardStatus, type OrderStatus, type OrderStatusChangedV1, type RecipeName } from '@free-lunch/contracts';

/** One line of an order's timeline: the order reached `status` at `at`. */
export interface TimelineLine {
  orderId: string;
  status: OrderStatus;
  at: string;
}

/** The furthest an order got in a batch of events, and its recipe if one of them named it. */
export interface OrderAdvance {
  orderId: string;
  status: OrderStatus;
  recipe: RecipeName | null;
}

export interface StatusChangePlan {
  /** Every status each order reached, once per (order, status); duplicates are harmless. */
  timeline: TimelineLine[];
  /** Per order, the highest status of the batch and the first recipe it names. */
  advances: OrderAdvance[];
}

/**
 * Sums up what a batch of kitchen status events says, order by order.
 *
 * Delivery is at least once and not in order, so every status an order reached goes on its
 * timeline once, and the order is to move to the highest status of the batch, never lower: a late
 * `cooking` after `delivered` still goes on the timeline (it did happen). The write applies an
 * advance only where it moves the order forward or teaches it its recipe (`recordProgress`), so the
 * same batch twice has the effect of once, and a batch applied after the order moved on changes
 * nothing about it.
 */
export function planStatusChanges(events: readonly OrderStatusChangedV1[]): StatusChangePlan {
  const timeline = new Map<string, TimelineLine>();
  const furthest = new Map<string, OrderAdvance>();
  for (const event of events) {
    const line = `${event.orderId}/${event.status}`;
    if (!timeline.has(line)) timeline.set(line, { orderId: event.orderId, status: event.status, at: event.at });
    const before = furthest.get(event.orderId);
    furthest.set(event.orderId, {
      orderId: event.orderId,
      status: before && !isForwardStatus(before.status, event.status) ? before.status : event.status,
      recipe: before?.recipe ?? event.recipe,
    });
  }
  return { timeline: [...timeline.values()], advances: [...furthest.values()] };
}
