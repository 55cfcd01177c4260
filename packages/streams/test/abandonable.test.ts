import { describe, expect, it } from 'vitest';
import { abandonable } from '../src/abandonable.js';

describe('abandonable', () => {
  it('when the promise settles first, then its value comes through', async () => {
    const read = abandonable(Promise.resolve('entries'));
    expect(await read.result).toBe('entries');
  });

  it('when abandoned before a promise that never settles, then it ends with null', async () => {
    const read = abandonable(new Promise<string>(() => undefined));
    read.abandon();
    expect(await read.result).toBeNull();
  });

  it('when the promise fails after being abandoned, then nothing goes unhandled', async () => {
    let fail!: (error: Error) => void;
    const read = abandonable(new Promise<string>((_, reject) => (fail = reject)));
    read.abandon();
    fail(new Error('connection closed'));
    expect(await read.result).toBeNull();
  });
});
