import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { streamMetrics } from '../src/index.js';

describe('streamMetrics', () => {
  it('when a consumer reports, then the counts show per stream and group', async () => {
    const registry = new Registry();
    const metrics = streamMetrics(registry);

    metrics.handled('orders.placed', 'kitchen', 500);
    metrics.handled('orders.placed', 'kitchen', 20);
    metrics.failed('orders.placed', 'kitchen', 3);
    metrics.deadLettered('kitchen.ingredients-requested', 'inventory', 1);

    const text = await registry.metrics();
    expect(text).toContain('stream_messages_handled_total{stream="orders.placed",group="kitchen"} 520');
    expect(text).toContain('stream_messages_failed_total{stream="orders.placed",group="kitchen"} 3');
    expect(text).toContain('stream_messages_dead_lettered_total{stream="kitchen.ingredients-requested",group="inventory"} 1');
  });

  it('when two consumers of one app report, then they add to the same counters', async () => {
    const registry = new Registry();
    streamMetrics(registry).handled('orders.placed', 'kitchen', 1);
    streamMetrics(registry).handled('orders.placed', 'kitchen', 1);

    expect(await registry.metrics()).toContain('stream_messages_handled_total{stream="orders.placed",group="kitchen"} 2');
  });
});
