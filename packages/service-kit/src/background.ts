import type { FastifyInstance } from 'fastify';

/** Something that runs in the background between `start()` and `stop()`. */
export interface BackgroundTask {
  start(): void | Promise<void>;
  /** Resolves once the work in hand is finished (a consumer's batch acknowledged, a loop's run done). */
  stop(): Promise<void>;
}

/** The transactional outbox's relay, as the lifecycle drives it (`OutboxRelay` from `@free-lunch/streams`). */
export interface BackgroundRelay {
  start(): void;
  /** Publishes every row committed so far. */
  flush(): Promise<unknown>;
  stop(): Promise<void>;
}

/** Everything a service runs besides answering HTTP requests. */
export interface Background {
  /** Stream consumers: they take new work in, so they start last and stop first. */
  consumers?: readonly BackgroundTask[];
  /**
   * Loops and other background readers (a live feed, a stream janitor), started in this order and
   * stopped in reverse: list first what the later ones wake.
   */
  workers?: readonly BackgroundTask[];
  /** Publishes what consumers and workers commit to the outbox: starts first, stops last. */
  relay?: BackgroundRelay;
}

const registered = new WeakSet<FastifyInstance>();

/**
 * Registers a service's background work with its lifecycle, once, after `createServiceApp` (so it
 * stops before the PostgreSQL and Redis plugins close their pools: onClose hooks run in reverse
 * order of registration).
 *
 * Once the app is ready: the relay starts, then the workers in order, then the consumers.
 * On close (runServer closes on SIGTERM/SIGINT), in one fixed order:
 * 1. the consumers stop reading; each finishes and acknowledges the batch in hand;
 * 2. the workers stop, last listed first, each finishing its current run;
 * 3. the relay stops and the outbox is flushed, so what 1 and 2 committed last is published now
 *    (if Redis is down it is logged; the rows stay for the next relay);
 * 4. then the pools close (the postgres and redis plugins' own hooks).
 */
export function registerBackground(app: FastifyInstance, { consumers = [], workers = [], relay }: Background): void {
  if (registered.has(app)) throw new Error('background work is registered once per app, in one call');
  registered.add(app);

  app.addHook('onReady', async () => {
    relay?.start();
    for (const worker of workers) await worker.start();
    await Promise.all(consumers.map(async (consumer) => consumer.start()));
  });

  app.addHook('onClose', async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    for (const worker of [...workers].reverse()) await worker.stop();
    if (!relay) return;
    await relay.stop();
    await relay
      .flush()
      .catch((error: unknown) => app.log.warn({ err: error }, 'outbox not flushed; the next relay to run publishes it'));
  });
}
