import { describe, expect, it } from 'vitest';
import { isForwardStatus } from '@free-lunch/contracts';
import { decideOnDispatch, ticketTransitions, triageDispatches, type Ticket } from '../src/domain/ticket.js';

const orderId = '0b7f3c1e-8d0a-4c3e-9a57-3f1f6b1f2a10';
const requestedAt = new Date('2024-11-28T12:00:00.000Z');
const dispatchedAt = new Date('2024-11-28T12:00:05.000Z');
const readyAt = new Date('2024-11-28T12:00:07.000Z');

const awaiting: Ticket = { orderId, recipe: 'pizza', status: 'awaiting_ingredients', requestedAt };
const cooking: Ticket = { orderId, recipe: 'pizza', status: 'cooking', requestedAt, dispatchedAt, readyAt };
const delivered: Ticket = {
  ...cooking,
  status: 'delivered',
  deliveredAt: new Date('2024-11-28T12:00:07.100Z'),
};

describe('ticket transitions', () => {
  it('when a ticket moves, then it only ever moves one step forward in the order lifecycle', () => {
    for (const { from, to } of Object.values(ticketTransitions)) expect(isForwardStatus(from, to)).toBe(true);
    expect(ticketTransitions.startCooking.to).toBe(ticketTransitions.deliver.from);
  });
});

describe('decideOnDispatch', () => {
  it('when the ingredients for a waiting ticket arrive, then it starts cooking', () => {
    expect(decideOnDispatch(awaiting, { recipe: 'pizza' })).toEqual({ action: 'start_cooking' });
  });

  it('when the ingredients arrive again for a ticket already cooking or delivered, then nothing happens', () => {
    expect(decideOnDispatch(cooking, { recipe: 'pizza' })).toEqual({ action: 'already_started', status: 'cooking' });
    expect(decideOnDispatch(delivered, { recipe: 'pizza' })).toEqual({
      action: 'already_started',
      status: 'delivered',
    });
  });

  it('when ingredients arrive for an order the kitchen has no ticket for, then it is reported as unknown', () => {
    expect(decideOnDispatch(undefined, { recipe: 'pizza' })).toEqual({ action: 'unknown_order' });
  });

  it('when another recipe arrives for a waiting ticket, then it is not cooked', () => {
    expect(decideOnDispatch(awaiting, { recipe: 'burger' })).toEqual({ action: 'wrong_recipe', ticketRecipe: 'pizza' });
  });
});

describe('triageDispatches', () => {
  it('when a batch mixes new, repeated, unknown and mismatched dispatches, then only the waiting matches cook, each once', () => {
    const other = '5d1c0c2e-2f5e-4a55-8f43-5a4b7f0b9c01';
    const stranger = '9e0a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b';
    const mismatched = 'c0ffee00-0000-4000-8000-000000000001';
    const tickets: Ticket[] = [
      awaiting,
      { ...cooking, orderId: other },
      { orderId: mismatched, recipe: 'salad', status: 'awaiting_ingredients', requestedAt },
    ];

    const { toCook, ignored } = triageDispatches(tickets, [
      { orderId, recipe: 'pizza' },
      { orderId, recipe: 'pizza' },
      { orderId: other, recipe: 'pizza' },
      { orderId: stranger, recipe: 'burger' },
      { orderId: mismatched, recipe: 'burger' },
    ]);

    expect(toCook).toEqual([orderId]);
    expect(ignored).toEqual([
      { orderId: stranger, dispatchedRecipe: 'burger', decision: { action: 'unknown_order' } },
      { orderId: mismatched, dispatchedRecipe: 'burger', decision: { action: 'wrong_recipe', ticketRecipe: 'salad' } },
    ]);
  });
});
