import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerBackground } from '../src/background.js';

/** A background task that writes what happens to it in a shared journal. */
function task(name: string, journal: string[]) {
  return {
    start: async () => void journal.push(`${name} started`),
    stop: async () => {
      journal.push(`${name} stopping`);
      await new Promise((resolve) => setTimeout(resolve, 5)); // the work in hand
      journal.push(`${name} stopped`);
    },
  };
}

function relay(journal: string[], { flushFails = false } = {}) {
  return {
    start: () => void journal.push('relay started'),
    stop: async () => void journal.push('relay stopped'),
    flush: async () => {
      journal.push('outbox flushed');
      if (flushFails) throw new Error('redis is down');
    },
  };
}

describe('registerBackground', () => {
  it('when the app is ready, then the relay starts, then the workers in order, then the consumers', async () => {
    const journal: string[] = [];
    const app = Fastify();
    registerBackground(app, {
      consumers: [task('consumer', journal)],
      workers: [task('allocator', journal), task('purchaser', journal)],
      relay: relay(journal),
    });
    expect(journal).toEqual([]);

    await app.ready();
    expect(journal).toEqual(['relay started', 'allocator started', 'purchaser started', 'consumer started']);
    await app.close();
  });

  it('when the app closes, then consumers stop, then workers in reverse, then the relay stops and flushes, then the pools close', async () => {
    const journal: string[] = [];
    const app = Fastify();
    // Like the postgres and redis plugins: registered before the service's background work.
    app.addHook('onClose', async () => void journal.push('pools closed'));
    registerBackground(app, {
      consumers: [task('orders consumer', journal), task('dispatches consumer', journal)],
      workers: [task('allocator', journal), task('purchaser', journal)],
      relay: relay(journal),
    });
    await app.ready();
    journal.length = 0;

    await app.close();
    expect(journal).toEqual([
      'orders consumer stopping',
      'dispatches consumer stopping',
      'orders consumer stopped',
      'dispatches consumer stopped',
      'purchaser stopping',
      'purchaser stopped',
      'allocator stopping',
      'allocator stopped',
      'relay stopped',
      'outbox flushed',
      'pools closed',
    ]);
  });

  it('when the outbox cannot be flushed on close, then the app still closes and its pools with it', async () => {
    const journal: string[] = [];
    const app = Fastify();
    app.addHook('onClose', async () => void journal.push('pools closed'));
    registerBackground(app, { relay: relay(journal, { flushFails: true }) });
    await app.ready();

    await app.close();
    expect(journal).toEqual(['relay started', 'relay stopped', 'outbox flushed', 'pools closed']);
  });

  it('when registered twice, then it refuses: one list says what the service runs', () => {
    const app = Fastify();
    registerBackground(app, {});
    expect(() => registerBackground(app, {})).toThrow(/once/);
  });
});
