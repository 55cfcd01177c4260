import { describe, expect, it } from 'vitest';
import { defaultHolds, faultKinds, planSchedule, ScheduleError, type ScheduleSettings } from '../src/schedule.js';

const settings = (overrides: Partial<ScheduleSettings> = {}): ScheduleSettings => ({
  seed: 7,
  durationS: 150,
  kinds: faultKinds,
  replicas: { orders: 1, kitchen: 2, inventory: 2 },
  ...defaultHolds(150),
  restartAfterS: 2,
  ...overrides,
});

describe('the fault schedule', () => {
  it('when the same seed is given twice, then the schedule is the same, and another seed gives another', () => {
    expect(planSchedule(settings())).toEqual(planSchedule(settings()));
    expect(planSchedule(settings({ seed: 8 }))).not.toEqual(planSchedule(settings()));
  });

  it('when every kind is asked for, then each process kind is killed once and every other fault comes once', () => {
    const schedule = planSchedule(settings());
    const kills = schedule.filter((fault) => fault.kind === 'kill').map((fault) => fault.target.replace(/-\d+$/, ''));
    expect(kills.sort()).toEqual(['inventory', 'kitchen', 'orders']);
    for (const kind of faultKinds.filter((kind) => kind !== 'kill')) {
      expect(schedule.filter((fault) => fault.kind === kind)).toHaveLength(1);
    }
    for (const fault of schedule.filter((fault) => fault.kind === 'kill')) {
      expect(['orders', 'kitchen-1', 'kitchen-2', 'inventory-1', 'inventory-2']).toContain(fault.target);
    }
  });

  it('when faults are laid out, then they come one at a time, at least 2 s apart, and the last ends with the run', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const schedule = planSchedule(settings({ seed }));
      expect(schedule[0]!.atS).toBeGreaterThanOrEqual(10);
      for (let i = 1; i < schedule.length; i += 1) {
        const previous = schedule[i - 1]!;
        expect(schedule[i]!.atS - (previous.atS + previous.holdS)).toBeGreaterThanOrEqual(1.9);
      }
      const last = schedule.at(-1)!;
      expect(last.atS + last.holdS).toBeCloseTo(150, 0);
    }
  });

  it('when Redis is wiped and poison written, then the poison always comes after the wipe, which would delete its dead letters', () => {
    for (let seed = 0; seed < 50; seed += 1) {
      const kinds = planSchedule(settings({ seed })).map((fault) => fault.kind);
      expect(kinds.indexOf('poison')).toBeGreaterThan(kinds.indexOf('redis-wipe'));
    }
  });

  it('when only some kinds are asked for, then only those are scheduled', () => {
    const schedule = planSchedule(settings({ kinds: ['redis-wipe', 'postgres-outage'] }));
    expect(schedule.map((fault) => fault.kind).sort()).toEqual(['postgres-outage', 'redis-wipe']);
    expect(schedule.find((fault) => fault.kind === 'postgres-outage')!.holdS).toBe(15);
  });

  it('when a one-minute run takes the default holds, then every fault still fits', () => {
    const schedule = planSchedule(settings({ durationS: 60, ...defaultHolds(60) }));
    expect(schedule).toHaveLength(faultKinds.length + 2);
    const last = schedule.at(-1)!;
    expect(last.atS + last.holdS).toBeCloseTo(60, 0);
  });

  it('when the faults cannot fit in the run, then it says how long they need and what to change', () => {
    expect(() => planSchedule(settings({ durationS: 30 }))).toThrow(ScheduleError);
    expect(() => planSchedule(settings({ durationS: 30 }))).toThrow(/--duration 30 is too short.*at least \d+ s/);
  });
});
