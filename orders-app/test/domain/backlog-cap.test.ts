import { describe, expect, it } from 'vitest';
import { BacklogCap } from '../../src/domain/backlog-cap.js';

/** A cap over a pretend database whose undelivered count the test sets, with a clock it moves. */
function capOver(undelivered: { count: number }, max = 10) {
  const clock = { now: 0 };
  let counts = 0;
  const cap = new BacklogCap({
    max,
    refreshMs: 500,
    now: () => clock.now,
    countUndelivered: async () => {
      counts += 1;
      return undelivered.count;
    },
  });
  return { cap, clock, counts: () => counts };
}

describe('BacklogCap', () => {
  it('when many requests arrive within one refresh, then the orders are counted once', async () => {
    const { cap, counts } = capOver({ count: 0 }, 1_000);

    const admissions = await Promise.all(Array.from({ length: 20 }, () => cap.admit(1)));

    expect(admissions.every((admission) => admission !== null)).toBe(true);
    expect(counts()).toBe(1);
  });

  it('when orders are placed between counts, then they count against the cap until the next count', async () => {
    const database = { count: 4 };
    const { cap } = capOver(database);

    (await cap.admit(5))!.placed();
    database.count = 9;

    expect(await cap.admit(2)).toBeNull();
    expect(await cap.admit(1)).not.toBeNull();
  });

  it('when an admission is cancelled, then its room is given back', async () => {
    const { cap } = capOver({ count: 0 });

    const admission = (await cap.admit(10))!;
    expect(await cap.admit(1)).toBeNull();
    admission.cancelled();

    expect(await cap.admit(10)).not.toBeNull();
  });

  it('when a refusal would rest on a stale count, then it waits for a fresh one and sees the deliveries', async () => {
    const database = { count: 0 };
    const { cap, clock, counts } = capOver(database);
    (await cap.admit(10))!.placed();
    expect(await cap.admit(1)).toBeNull();

    database.count = 0; // all ten delivered
    expect(await cap.admit(1)).toBeNull(); // the count is still fresh
    clock.now = 500;

    expect(await cap.admit(1)).not.toBeNull();
    expect(counts()).toBe(2);
  });

  it('when the count is stale but there is room, then the request does not wait for the recount', async () => {
    let release!: (count: number) => void;
    let slow = false;
    const cap = new BacklogCap({
      max: 10,
      refreshMs: 500,
      now: () => (slow ? 1_000 : 0),
      countUndelivered: () => (slow ? new Promise<number>((resolve) => (release = resolve)) : Promise.resolve(0)),
    });
    await cap.admit(1);
    slow = true;

    expect(await cap.admit(1)).not.toBeNull();
    release(2);
  });
});
