import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Loop, Wakeup, type LoopOptions } from '../src/loop.js';

const silent = { error() {} };

/** A run() whose runs finish only when the test says so, each answering what the test gives. */
function controlledRuns() {
  const finishers: Array<(delay: number | void) => void> = [];
  return {
    run: () => new Promise<number | void>((resolve) => finishers.push(resolve)),
    get started() {
      return finishers.length;
    },
    finish(index: number, delay?: number) {
      finishers[index]!(delay);
    },
    /** Lets every run started so far finish (those already finished are unaffected). */
    finishAll() {
      for (const finish of finishers) finish();
    },
  };
}

const underTest: Array<{ runs: ReturnType<typeof controlledRuns>; loop: Loop }> = [];

/** A loop over controlled runs (quiet, every 60 s unless `options` say otherwise), not yet started; stopped after the test. */
function loopUnderTest(options: Partial<LoopOptions> = {}) {
  const runs = controlledRuns();
  const loop = new Loop({ name: 'test', run: runs.run, everyMs: 60_000, log: silent, ...options });
  underTest.push({ runs, loop });
  return { runs, loop };
}

/** Stops every loop the test made, letting its runs finish, before the timers are real again. */
async function stopLoopsUnderTest() {
  for (const { runs, loop } of underTest.splice(0)) {
    runs.finishAll();
    await loop.stop();
  }
  vi.useRealTimers();
}

/** Lets settled promises run their continuations (fake timers leave microtasks alone). */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('Loop', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(stopLoopsUnderTest);

  it('when started, then it runs at once and again everyMs after each run ends', async () => {
    const { runs, loop } = loopUnderTest({ everyMs: 1_000 });

    loop.start();
    await settle();
    expect(runs.started).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000); // a slow run delays the next instead of piling up
    expect(runs.started).toBe(1);
    runs.finish(0);
    await vi.advanceTimersByTimeAsync(999);
    expect(runs.started).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.started).toBe(2);
  });

  it('when runAtStart is false, then the first run comes everyMs after start', async () => {
    const { runs, loop } = loopUnderTest({ everyMs: 1_000, runAtStart: false });

    loop.start();
    await vi.advanceTimersByTimeAsync(999);
    expect(runs.started).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.started).toBe(1);
  });

  it('when a run answers a delay, then the next run comes after that delay, and at once for 0', async () => {
    const { runs, loop } = loopUnderTest();

    loop.start();
    await settle();
    runs.finish(0, 0);
    await settle();
    expect(runs.started).toBe(2);
    runs.finish(1, 250);
    await vi.advanceTimersByTimeAsync(249);
    expect(runs.started).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs.started).toBe(3);
  });

  it('when woken while idle, then it runs at once', async () => {
    const { runs, loop } = loopUnderTest();

    loop.start();
    await settle();
    runs.finish(0);
    await settle();
    expect(runs.started).toBe(1);
    loop.wake();
    await settle();
    expect(runs.started).toBe(2);
  });

  it('when woken several times during a run, then exactly one more run follows right after it', async () => {
    const { runs, loop } = loopUnderTest();

    loop.start();
    await settle();
    loop.wake();
    loop.wake();
    loop.wake();
    expect(runs.started).toBe(1); // never two at once
    runs.finish(0);
    await settle();
    expect(runs.started).toBe(2);

    runs.finish(1);
    await settle();
    expect(runs.started).toBe(2);
    await loop.stop();
  });

  it('when woken during a run that asks to go on at once, then that one next run answers the wake too', async () => {
    const { runs, loop } = loopUnderTest();

    loop.start();
    await settle();
    loop.wake();
    runs.finish(0, 0);
    await settle();
    expect(runs.started).toBe(2);
    runs.finish(1);
    await settle();
    expect(runs.started).toBe(2);
    await loop.stop();
  });

  it('when woken before start, then the wake is ignored', async () => {
    const { runs, loop } = loopUnderTest();

    loop.wake();
    loop.start();
    await settle();
    runs.finish(0);
    await settle();
    expect(runs.started).toBe(1);
    await loop.stop();
  });

  it('when a run fails, then it is logged and the loop runs again everyMs later', async () => {
    const errors: Array<Record<string, unknown>> = [];
    let calls = 0;
    const loop = new Loop({
      name: 'flaky',
      run: async () => {
        calls += 1;
        if (calls === 1) throw new Error('database restarting');
      },
      everyMs: 1_000,
      log: { error: (details) => errors.push(details) },
    });

    loop.start();
    await settle();
    expect(errors).toMatchObject([{ loop: 'flaky', err: { message: 'database restarting' } }]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(2);
    await loop.stop();
  });

  it('when stopped mid-run, then stop waits for that run and nothing runs afterwards', async () => {
    const { runs, loop } = loopUnderTest({ everyMs: 5 });

    loop.start();
    await settle();
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);

    runs.finish(0, 0);
    await stopping;
    loop.wake();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs.started).toBe(1);
  });

  it('when stopped while sleeping, then the next run is cancelled and stop resolves at once', async () => {
    const { runs, loop } = loopUnderTest();

    loop.start();
    await settle();
    runs.finish(0);
    await settle();
    await loop.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(runs.started).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('Wakeup', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('when woken during a sleep, then the sleep ends at once', async () => {
    const wakeup = new Wakeup();
    let woke = false;
    void wakeup.sleep(60_000).then(() => (woke = true));
    wakeup.wake();
    await settle();
    expect(woke).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('when woken while nobody sleeps, then the next sleep (only) returns at once', async () => {
    const wakeup = new Wakeup();
    wakeup.wake();
    wakeup.wake();
    let first = false;
    let second = false;
    void wakeup.sleep(60_000).then(() => (first = true));
    await settle();
    expect(first).toBe(true);
    void wakeup.sleep(1_000).then(() => (second = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(second).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(second).toBe(true);
  });
});
