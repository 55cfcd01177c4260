import { describe, expect, it } from 'vitest';
import { burstRequests, plannedOrders, steadySchedule, warmupPlan } from '../src/load-plan.js';

describe('load plans', () => {
  it('when a burst is larger than one request may carry, then it goes out as the fewest requests, the last one holding the rest', () => {
    expect(burstRequests(10_000, 1_000)).toEqual(Array(10).fill(1_000));
    expect(burstRequests(2_500, 1_000)).toEqual([1_000, 1_000, 500]);
    expect(burstRequests(0, 1_000)).toEqual([]);
  });

  it('when a steady rate is offered, then every interval carries what is due by then and the total is exact', () => {
    const plan = { mode: 'steady' as const, rate: 500, durationS: 2, intervalMs: 50 };
    const schedule = steadySchedule(plan, 1_000);
    expect(schedule).toHaveLength(40);
    expect(schedule.every(({ quantity }) => quantity === 25)).toBe(true);
    expect(schedule.at(-1)!.atMs).toBe(2_000);
    expect(schedule.reduce((sum, { quantity }) => sum + quantity, 0)).toBe(plannedOrders(plan));
  });

  it('when the rate does not divide evenly, then fractions carry over and nothing is lost or added', () => {
    const plan = { mode: 'steady' as const, rate: 7, durationS: 3, intervalMs: 100 };
    const schedule = steadySchedule(plan, 1_000);
    expect(schedule.reduce((sum, { quantity }) => sum + quantity, 0)).toBe(21);
    expect(schedule.every(({ quantity }) => quantity >= 1)).toBe(true);
    for (const { atMs, quantity } of schedule) expect(quantity).toBeLessThanOrEqual(1 + Math.ceil((7 * atMs) / 1000));
  });

  it('when more is due in one interval than a request may carry, then that interval sends several requests', () => {
    const schedule = steadySchedule({ mode: 'steady', rate: 30_000, durationS: 0.1, intervalMs: 100 }, 1_000);
    expect(schedule).toEqual(Array.from({ length: 3 }, () => ({ atMs: 100, quantity: 1_000 })));
  });

  it('when a run warms up, then a burst warms up at a modest steady rate and a steady run at its own', () => {
    expect(warmupPlan({ load: { mode: 'burst', orders: 10_000 }, warmupS: 3 })).toEqual({
      mode: 'steady',
      rate: 200,
      durationS: 3,
      intervalMs: 50,
    });
    expect(warmupPlan({ load: { mode: 'steady', rate: 500, durationS: 20, intervalMs: 20 }, warmupS: 2 })).toMatchObject({
      rate: 500,
      intervalMs: 20,
    });
    expect(warmupPlan({ load: { mode: 'burst', orders: 10 }, warmupS: 0 })).toBeNull();
  });
});
