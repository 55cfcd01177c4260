import { afterEach, describe, expect, it } from 'vitest';
import { timeUntilNextDishIsReady } from '../src/data/tickets.js';
import { type KitchenUnderTest, startKitchenUnderTest } from './support/kitchen-app.js';

let kitchen: KitchenUnderTest | undefined;
afterEach(async () => {
  await kitchen?.close();
  kitchen = undefined;
});

describe('when the next dish is ready', () => {
  it('when nothing is on the stove, then the cook loop is told so (and sleeps until its sweep) rather than that a dish is ready now', async () => {
    kitchen = await startKitchenUnderTest({ env: { COOK_TIME_MS: '60000' } });
    expect(await timeUntilNextDishIsReady(kitchen.app.pg)).toBeNull();

    await kitchen.app.pg.query(
      `INSERT INTO tickets (order_id, recipe, status, requested_at, dispatched_at, ready_at)
       VALUES (gen_random_uuid(), 'pizza', 'cooking', now(), now(), now() + interval '30 seconds')`,
    );
    const waitMs = await timeUntilNextDishIsReady(kitchen.app.pg);
    expect(waitMs).toBeGreaterThan(25_000);
    expect(waitMs).toBeLessThanOrEqual(30_000);
  });
});
