import { describe, expect, it } from 'vitest';
import type { DeliveryRound } from '../src/use-cases/deliver-ready-dishes.js';
import { cookLoop } from '../src/workers/cook-loop.js';

const silent = { error() {} };

/** A deliver() whose rounds finish only when the test says so. */
function controlledRounds() {
  const finishers: Array<(round: DeliveryRound) => void> = [];
  return {
    deliver: () => new Promise<DeliveryRound>((resolve) => finishers.push(resolve)),
    get started() {
      return finishers.length;
    },
    finish(index: number, round: DeliveryRound = { delivered: 0, nextReadyInMs: null }) {
      finishers[index]!(round);
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('cook loop', () => {
  it('when woken several times during a round, then it runs exactly one more round, not one per wake-up', async () => {
    const rounds = controlledRounds();
    const loop = cookLoop({ deliver: rounds.deliver, log: silent, sweepIntervalMs: 60_000 });

    loop.start();
    await tick();
    loop.wake();
    loop.wake();
    loop.wake();
    rounds.finish(0);
    await tick();
    expect(rounds.started).toBe(2);

    rounds.finish(1);
    await loop.stop();
    expect(rounds.started).toBe(2);
  });

  it('when a round delivers a full batch, then the next round follows at once', async () => {
    const rounds = controlledRounds();
    const loop = cookLoop({ deliver: rounds.deliver, log: silent, sweepIntervalMs: 60_000, batchSize: 10 });

    loop.start();
    await tick();
    rounds.finish(0, { delivered: 10, nextReadyInMs: 0 });
    await tick();
    expect(rounds.started).toBe(2);

    rounds.finish(1, { delivered: 3, nextReadyInMs: null });
    await loop.stop();
    expect(rounds.started).toBe(2);
  });

  it('when stopped mid-round, then stop waits for that round and nothing runs afterwards', async () => {
    const rounds = controlledRounds();
    const loop = cookLoop({ deliver: rounds.deliver, log: silent, sweepIntervalMs: 5 });

    loop.start();
    await tick();
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await tick();
    expect(stopped).toBe(false);

    rounds.finish(0);
    await stopping;
    loop.wake();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(rounds.started).toBe(1);
  });
});
