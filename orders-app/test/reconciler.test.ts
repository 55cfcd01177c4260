import { afterEach, describe, expect, it } from 'vitest';
import type { PlaceOrdersResponse } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { applyStatusChanges } from '../src/use-cases/apply-status-changes.js';
import { reconcileStuckOrders, reDriveUnfinishedOrders } from '../src/use-cases/reconcile-stuck-orders.js';
import { placedOrderIds, postOrders, startOrdersUnderTest, statusEvent, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
afterEach(async () => {
  await orders.close();
});

function timesAnnounced(ids: string[], orderId: string): number {
  return ids.filter((id) => id === orderId).length;
}

describe('the reconciler', () => {
  it('when an order makes no progress for longer than RECONCILE_AFTER_MS, then order.placed is sent for it again, and not for a delivered one', async () => {
    orders = await startOrdersUnderTest({ env: { RECONCILE_AFTER_MS: '400', RECONCILE_INTERVAL_MS: '100' } });
    const [stuck, done] = (await postOrders(orders.app, { quantity: 2 })).json<PlaceOrdersResponse>().orders;
    await applyStatusChanges({ pool: orders.app.pg, log: orders.app.log }, [
      statusEvent(done!.id, 'delivered', new Date().toISOString()),
    ]);

    await eventually('the stuck order to be announced again', async () => expect(timesAnnounced(await placedOrderIds(orders.redis, orders.keyPrefix), stuck!.id)).toBeGreaterThanOrEqual(2), { timeoutMs: 10_000, intervalMs: 100 });

    expect(timesAnnounced(await placedOrderIds(orders.redis, orders.keyPrefix), done!.id)).toBe(1);
    const nudged = await orders.app.pg.query<{ id: string }>('SELECT id FROM orders WHERE nudged_at IS NOT NULL');
    expect(nudged.rows.map((row) => row.id)).toEqual([stuck!.id]);
  });

  it('when an order was just nudged, then the next round leaves it alone until it has been stuck that long again', async () => {
    orders = await startOrdersUnderTest();
    await postOrders(orders.app, { quantity: 3 });
    // Three orders placed an hour ago and never heard of since.
    await orders.app.pg.query("UPDATE orders SET created_at = now() - interval '1 hour', updated_at = now() - interval '1 hour'");
    const deps = { pool: orders.app.pg, publishNow: () => {} };

    expect(await reconcileStuckOrders(deps, { stuckForMs: 60_000 })).toBe(3);
    expect(await reconcileStuckOrders(deps, { stuckForMs: 60_000 })).toBe(0);

    await orders.app.pg.query("UPDATE orders SET nudged_at = now() - interval '2 minutes'");
    expect(await reconcileStuckOrders(deps, { stuckForMs: 60_000 })).toBe(3);
  });

  it('when an order stays stuck after a nudge, then each further nudge waits twice as long as the last, and progress starts over', async () => {
    orders = await startOrdersUnderTest();
    const [order] = (await postOrders(orders.app, { quantity: 1 })).json<PlaceOrdersResponse>().orders;
    await orders.app.pg.query("UPDATE orders SET created_at = now() - interval '1 hour', updated_at = now() - interval '1 hour'");
    const deps = { pool: orders.app.pg, publishNow: () => {} };
    const nudgeAfter = async (ago: string) => {
      await orders.app.pg.query(`UPDATE orders SET nudged_at = now() - interval '${ago}'`);
      return reconcileStuckOrders(deps, { stuckForMs: 60_000 });
    };

    expect(await reconcileStuckOrders(deps, { stuckForMs: 60_000 })).toBe(1);
    expect(await nudgeAfter('61 seconds')).toBe(1); // second nudge: one stuckForMs after the first
    expect(await nudgeAfter('100 seconds')).toBe(0); // third: two of them
    expect(await nudgeAfter('121 seconds')).toBe(1);
    expect(await nudgeAfter('200 seconds')).toBe(0); // fourth: four of them
    expect(await nudgeAfter('241 seconds')).toBe(1);
    expect(await nudgeAfter('200 seconds')).toBe(0); // fifth: still four, the most it waits
    expect(await nudgeAfter('241 seconds')).toBe(1);

    // However often it was nudged, the wait stops growing at 4 × stuckForMs.
    await orders.app.pg.query('UPDATE orders SET nudges = 12');
    expect(await nudgeAfter('239 seconds')).toBe(0);
    expect(await nudgeAfter('241 seconds')).toBe(1);

    // Nudged before the count existed (the migration leaves it 0): the next nudge waits a full stuckForMs.
    await orders.app.pg.query('UPDATE orders SET nudges = 0');
    expect(await nudgeAfter('45 seconds')).toBe(0);
    expect(await nudgeAfter('61 seconds')).toBe(1);

    // The kitchen reports progress, then nothing for an hour: the first nudge comes after one stuckForMs again.
    await applyStatusChanges({ pool: orders.app.pg, log: orders.app.log }, [
      statusEvent(order!.id, 'awaiting_ingredients', new Date().toISOString()),
    ]);
    await orders.app.pg.query("UPDATE orders SET updated_at = now() - interval '1 hour'");
    expect(await nudgeAfter('45 seconds')).toBe(0);
    expect(await nudgeAfter('61 seconds')).toBe(1);
  });

  it('when an order is moving along, then it is not nudged', async () => {
    orders = await startOrdersUnderTest();
    const [order] = (await postOrders(orders.app, { quantity: 1 })).json<PlaceOrdersResponse>().orders;
    await orders.app.pg.query("UPDATE orders SET updated_at = now() - interval '1 hour'");
    await applyStatusChanges({ pool: orders.app.pg, log: orders.app.log }, [
      statusEvent(order!.id, 'cooking', new Date().toISOString()),
    ]);

    expect(await reconcileStuckOrders({ pool: orders.app.pg, publishNow: () => {} }, { stuckForMs: 60_000 })).toBe(0);
  });

  it('when Redis lost its data, then every unfinished order is re-announced at once, however recently it moved or was nudged, each once, and delivered ones are not', async () => {
    orders = await startOrdersUnderTest();
    const placed = [
      ...(await postOrders(orders.app, { quantity: 700 })).json<PlaceOrdersResponse>().orders,
      ...(await postOrders(orders.app, { quantity: 700 })).json<PlaceOrdersResponse>().orders,
    ];
    const [delivered, moving, nudged] = placed as [(typeof placed)[0], (typeof placed)[0], (typeof placed)[0]];
    await applyStatusChanges({ pool: orders.app.pg, log: orders.app.log }, [
      statusEvent(delivered.id, 'delivered', new Date().toISOString()),
      statusEvent(moving.id, 'cooking', new Date().toISOString()),
    ]);
    const deps = { pool: orders.app.pg, publishNow: () => {} };
    await orders.app.pg.query('UPDATE orders SET nudged_at = now(), nudges = 3 WHERE id = $1', [nudged.id]);

    // More than one round of nudges (1,000 a transaction), and still each order exactly once.
    expect(await reDriveUnfinishedOrders(deps)).toBe(1_399);
    const { rows } = await orders.app.pg.query<{ nudges: number; count: string }>(
      "SELECT nudges, count(*) FROM orders WHERE status <> 'delivered' GROUP BY nudges ORDER BY nudges",
    );
    expect(rows.map((row) => [row.nudges, Number(row.count)])).toEqual([[1, 1_398], [4, 1]]);
  });

  it('when the orders consumer finds its group gone, then it re-announces every unfinished order without waiting for RECONCILE_AFTER_MS', async () => {
    orders = await startOrdersUnderTest({ env: { RECONCILE_AFTER_MS: '3600000' } });
    const placed = (await postOrders(orders.app, { quantity: 3 })).json<PlaceOrdersResponse>().orders;
    await eventually('the orders to be announced', async () =>
      expect(await placedOrderIds(orders.redis, orders.keyPrefix)).toHaveLength(3),
    );

    // Redis lost the status stream and with it the orders group.
    await orders.redis.del(`${orders.keyPrefix}kitchen.order-status-changed`);

    await eventually(
      'every unfinished order to be announced again',
      async () => {
        const announced = await placedOrderIds(orders.redis, orders.keyPrefix);
        for (const order of placed) expect(timesAnnounced(announced, order.id)).toBe(2);
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  });
});
