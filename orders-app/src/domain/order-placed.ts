import { streamNames, type OrderPlacedV1 } from '@free-lunch/contracts';

/**
 * The event that hands an order to the kitchen. The reconciler sends the very same event again for
 * an order stuck too long: the kitchen handles it idempotently by order id, so a repeat is harmless.
 */
export function orderPlacedEvent(order: { id: string; createdAt: string }) {
  const message: OrderPlacedV1 = { type: 'order.placed', version: 1, orderId: order.id, placedAt: order.createdAt };
  return { stream: streamNames.orderPlaced, message };
}
