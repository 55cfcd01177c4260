import { describe, expect, it } from 'vitest';
import type { OrderStatusChangedV1 } from '@free-lunch/contracts';
import { planStatusChanges, type OrderProgress } from '../../src/domain/status-changes.js';

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

const queued: OrderProgress = { status: 'queued', recipe: null };

describe('planStatusChanges', () => {
  it('when an order moves forward, then it takes the new status and its recipe and the step goes on the timeline', () => {
    const plan = planStatusChanges(new Map([[orderA, queued]]), [
      event(orderA, 'awaiting_ingredients', '2024-11-28T10:00:01.000Z'),
    ]);
    expect(plan.advances).toEqual([{ orderId: orderA, status: 'awaiting_ingredients', recipe: 'pizza' }]);
    expect(plan.timeline).toEqual([
      { orderId: orderA, status: 'awaiting_ingredients', at: '2024-11-28T10:00:01.000Z' },
    ]);
  });

  it('when a late cooking event follows delivered, then the order stays delivered but both are on the timeline', () => {
    const plan = planStatusChanges(new Map([[orderA, { status: 'delivered', recipe: 'pizza' }]]), [
      event(orderA, 'cooking', '2024-11-28T10:00:02.000Z'),
    ]);
    expect(plan.advances).toEqual([]);
    expect(plan.timeline).toEqual([{ orderId: orderA, status: 'cooking', at: '2024-11-28T10:00:02.000Z' }]);
  });

  it('when a batch holds the steps out of order, then the order ends at the highest one', () => {
    const plan = planStatusChanges(new Map([[orderA, queued]]), [
      event(orderA, 'delivered', '2024-11-28T10:00:03.000Z'),
      event(orderA, 'awaiting_ingredients', '2024-11-28T10:00:01.000Z'),
      event(orderA, 'cooking', '2024-11-28T10:00:02.000Z'),
    ]);
    expect(plan.advances).toEqual([{ orderId: orderA, status: 'delivered', recipe: 'pizza' }]);
    expect(plan.timeline.map((line) => line.status)).toEqual(['delivered', 'awaiting_ingredients', 'cooking']);
  });

  it('when the same event arrives twice, then it counts once', () => {
    const twice = event(orderA, 'cooking', '2024-11-28T10:00:02.000Z');
    const plan = planStatusChanges(new Map([[orderA, queued]]), [twice, { ...twice }]);
    expect(plan.timeline).toHaveLength(1);
    expect(plan.advances).toHaveLength(1);
  });

  it('when an event repeats what the order already is, then nothing about the order changes', () => {
    const plan = planStatusChanges(new Map([[orderA, { status: 'cooking', recipe: 'pizza' }]]), [
      event(orderA, 'cooking', '2024-11-28T10:00:02.000Z'),
    ]);
    expect(plan.advances).toEqual([]);
  });

  it('when an event is about an order this service never placed, then it is set aside', () => {
    const plan = planStatusChanges(new Map([[orderA, queued]]), [
      event(orderB, 'cooking', '2024-11-28T10:00:02.000Z'),
    ]);
    expect(plan).toEqual({ timeline: [], advances: [], unknownOrderIds: [orderB] });
  });

  it('when the recipe becomes known without a forward step, then the recipe is still recorded', () => {
    const plan = planStatusChanges(new Map([[orderA, { status: 'cooking', recipe: null }]]), [
      event(orderA, 'awaiting_ingredients', '2024-11-28T10:00:01.000Z'),
    ]);
    expect(plan.advances).toEqual([{ orderId: orderA, status: 'cooking', recipe: 'pizza' }]);
  });
});
