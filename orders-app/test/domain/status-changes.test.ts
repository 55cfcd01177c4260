import { describe, expect, it } from 'vitest';
import type { OrderStatusChangedV1 } from '@free-lunch/contracts';
import { planStatusChanges } from '../../src/domain/status-changes.js';

const orderA = '0b0e9c9e-6c0e-4d2a-9c55-1f7b0f3e0a01';
const orderB = '0b0e9c9e-6c0e-4d2a-9c55-1f7b0f3e0a02';

function event(orderId: string, status: OrderStatusChangedV1['status'], at: string): OrderStatusChangedV1 {
  return {
    type: 'order.status-changed',
    version: 1,
    orderId,
    status,
    recipe: status === 'queued' ? null : 'pizza',
    at,
  };
}

describe('planStatusChanges', () => {
  it('when an order moves forward, then it is to take the new status and its recipe and the step goes on the timeline', () => {
    const plan = planStatusChanges([event(orderA, 'awaiting_ingredients', '2024-11-28T10:00:01.000Z')]);
    expect(plan.advances).toEqual([{ orderId: orderA, status: 'awaiting_ingredients', recipe: 'pizza' }]);
    expect(plan.timeline).toEqual([
      { orderId: orderA, status: 'awaiting_ingredients', at: '2024-11-28T10:00:01.000Z' },
    ]);
  });

  it('when a batch holds the steps out of order, then the order is to end at the highest one, every step on the timeline', () => {
    const plan = planStatusChanges([
      event(orderA, 'delivered', '2024-11-28T10:00:03.000Z'),
      event(orderA, 'awaiting_ingredients', '2024-11-28T10:00:01.000Z'),
      event(orderA, 'cooking', '2024-11-28T10:00:02.000Z'),
    ]);
    expect(plan.advances).toEqual([{ orderId: orderA, status: 'delivered', recipe: 'pizza' }]);
    expect(plan.timeline.map((line) => line.status)).toEqual(['delivered', 'awaiting_ingredients', 'cooking']);
  });

  it('when the same event arrives twice, then it counts once', () => {
    const twice = event(orderA, 'cooking', '2024-11-28T10:00:02.000Z');
    const plan = planStatusChanges([twice, { ...twice }]);
    expect(plan.timeline).toHaveLength(1);
    expect(plan.advances).toHaveLength(1);
  });

  it('when events of several orders are mixed, then each order has its own furthest step', () => {
    const plan = planStatusChanges([
      event(orderA, 'cooking', '2024-11-28T10:00:02.000Z'),
      event(orderB, 'awaiting_ingredients', '2024-11-28T10:00:01.000Z'),
      event(orderA, 'awaiting_ingredients', '2024-11-28T10:00:01.000Z'),
    ]);
    expect(plan.advances).toEqual([
      { orderId: orderA, status: 'cooking', recipe: 'pizza' },
      { orderId: orderB, status: 'awaiting_ingredients', recipe: 'pizza' },
    ]);
  });

  it('when the first event names no recipe and a later one does, then the recipe is kept', () => {
    const plan = planStatusChanges([
      { ...event(orderA, 'cooking', '2024-11-28T10:00:02.000Z'), recipe: null },
      event(orderA, 'awaiting_ingredients', '2024-11-28T10:00:01.000Z'),
    ]);
    expect(plan.advances).toEqual([{ orderId: orderA, status: 'cooking', recipe: 'pizza' }]);
  });
});
