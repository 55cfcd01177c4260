import { describe, expect, it } from 'vitest';
import { SharedRead } from '../src/index.js';

function countingRead() {
  let calls = 0;
  const pending: Array<(value: number) => void> = [];
  return {
    read: () => {
      calls += 1;
      return new Promise<number>((resolve) => pending.push(resolve));
    },
    calls: () => calls,
    answer: (value: number) => pending.shift()!(value),
  };
}

describe('SharedRead', () => {
  it('when many callers ask while a read runs, then they all get its answer and only one read is made', async () => {
    const source = countingRead();
    const shared = new SharedRead(source.read, 1_000);

    const answers = Promise.all(Array.from({ length: 50 }, () => shared.get()));
    await Promise.resolve();
    source.answer(7);

    expect(await answers).toEqual(Array(50).fill(7));
    expect(source.calls()).toBe(1);
  });

  it('when the answer is younger than maxAgeMs, then it is reused; once older, the next caller reads again', async () => {
    let now = 0;
    let reads = 0;
    const shared = new SharedRead(async () => ++reads, 500, () => now);

    expect(await shared.get()).toBe(1);
    now = 499;
    expect(await shared.get()).toBe(1);
    now = 500;
    expect(await shared.get()).toBe(2);
  });

  it('when a read takes long, then its answer is kept twenty times as long as it took, so a crowd keeps the database busy a twentieth of the time', async () => {
    let now = 0;
    let reads = 0;
    const shared = new SharedRead(
      async () => {
        now += 100; // the read takes 100 ms
        return ++reads;
      },
      500,
      () => now,
    );

    expect(await shared.get()).toBe(1);
    now = 1_999;
    expect(await shared.get()).toBe(1);
    now = 2_000;
    expect(await shared.get()).toBe(2);
  });

  it('when a read fails, then its callers hear it and the next caller reads again', async () => {
    let fail = true;
    const shared = new SharedRead(async () => {
      if (fail) throw new Error('statement timeout');
      return 'counts';
    }, 1_000);

    await expect(shared.get()).rejects.toThrow('statement timeout');
    fail = false;
    expect(await shared.get()).toBe('counts');
  });

  it('when the read throws before it even starts, then the failure is not kept either', async () => {
    let calls = 0;
    const shared = new SharedRead<number>(() => {
      calls += 1;
      if (calls === 1) throw new Error('no connection');
      return Promise.resolve(calls);
    }, 1_000);

    await expect(shared.get()).rejects.toThrow('no connection');
    expect(await shared.get()).toBe(2);
  });
});
