import { describe, expect, it } from 'vitest';
import { recipeBook, streamContracts, streamNames } from '@free-lunch/contracts';
import {
  cookedMessages,
  dishDeliveredMessages,
  openingMessages,
  reDriveMessages,
  type KitchenMessage,
} from '../src/domain/announcements.js';
import type { CookingTicket, DeliveredTicket, TicketWithIngredients } from '../src/domain/ticket.js';

const orderId = '0b7f3c1e-8d0a-4c3e-9a57-3f1f6b1f2a10';
const requestedAt = new Date('2024-11-28T12:00:00.000Z');
const dispatchedAt = new Date('2024-11-28T12:00:05.000Z');
const readyAt = new Date('2024-11-28T12:00:07.000Z');
const deliveredAt = new Date('2024-11-28T12:00:07.250Z');
const ingredients = recipeBook.salad;

const awaiting: TicketWithIngredients = {
  orderId,
  recipe: 'salad',
  status: 'awaiting_ingredients',
  requestedAt,
  ingredients,
};
const cooking: CookingTicket & TicketWithIngredients = { ...awaiting, status: 'cooking', dispatchedAt, readyAt };
const delivered: DeliveredTicket & TicketWithIngredients = { ...cooking, status: 'delivered', deliveredAt };

/** What a reader of the streams would see: stream, type or status, and when. */
function summary(messages: KitchenMessage[]) {
  return messages.map(({ stream, message }) =>
    message.type === 'ingredients.requested'
      ? { stream, type: message.type, recipe: message.recipe, at: message.requestedAt }
      : { stream, status: message.status, recipe: message.recipe, at: message.at },
  );
}

describe('ticket announcements', () => {
  it('when a ticket is opened, then the warehouse is asked for exactly the recipe and the order is awaiting ingredients', () => {
    const messages = openingMessages(awaiting);
    expect(summary(messages)).toEqual([
      { stream: streamNames.ingredientsRequested, type: 'ingredients.requested', recipe: 'salad', at: requestedAt.toISOString() },
      { stream: streamNames.orderStatusChanged, status: 'awaiting_ingredients', recipe: 'salad', at: requestedAt.toISOString() },
    ]);
    const request = messages[0]!.message;
    expect(request.type === 'ingredients.requested' && request.ingredients).toEqual(recipeBook.salad);
  });

  it('when a waiting ticket is re-driven, then the same request for the same recipe is sent again', () => {
    expect(reDriveMessages(awaiting)).toEqual(openingMessages(awaiting));
  });

  it('when a cooking ticket is re-driven, then every status it reached is re-sent with its own times and no new request', () => {
    expect(summary(reDriveMessages(cooking))).toEqual([
      { stream: streamNames.orderStatusChanged, status: 'awaiting_ingredients', recipe: 'salad', at: requestedAt.toISOString() },
      { stream: streamNames.orderStatusChanged, status: 'cooking', recipe: 'salad', at: dispatchedAt.toISOString() },
    ]);
  });

  it('when a delivered ticket is re-driven, then awaiting, cooking and delivered are re-sent in that order', () => {
    expect(summary(reDriveMessages(delivered))).toEqual([
      { stream: streamNames.orderStatusChanged, status: 'awaiting_ingredients', recipe: 'salad', at: requestedAt.toISOString() },
      { stream: streamNames.orderStatusChanged, status: 'cooking', recipe: 'salad', at: dispatchedAt.toISOString() },
      { stream: streamNames.orderStatusChanged, status: 'delivered', recipe: 'salad', at: deliveredAt.toISOString() },
    ]);
  });

  it('when cooking starts or a dish is delivered, then exactly that status is announced', () => {
    expect(summary(cookedMessages(cooking, dispatchedAt, false))).toEqual([
      { stream: streamNames.orderStatusChanged, status: 'cooking', recipe: 'salad', at: dispatchedAt.toISOString() },
    ]);
    expect(summary(cookedMessages(cooking, dispatchedAt, true))).toEqual([
      { stream: streamNames.orderStatusChanged, status: 'cooking', recipe: 'salad', at: dispatchedAt.toISOString() },
      { stream: streamNames.orderStatusChanged, status: 'delivered', recipe: 'salad', at: dispatchedAt.toISOString() },
    ]);
    expect(summary(dishDeliveredMessages(delivered))).toEqual([
      { stream: streamNames.orderStatusChanged, status: 'delivered', recipe: 'salad', at: deliveredAt.toISOString() },
    ]);
  });

  it('when any announcement is written, then it satisfies its stream contract', () => {
    const all = [
      ...reDriveMessages(awaiting),
      ...reDriveMessages(cooking),
      ...reDriveMessages(delivered),
      ...cookedMessages(cooking, dispatchedAt, true),
      ...dishDeliveredMessages(delivered),
    ];
    for (const { stream, message } of all) expect(streamContracts[stream].safeParse(message).success).toBe(true);
  });
});
