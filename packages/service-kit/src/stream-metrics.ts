import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Counters a stream consumer reports to. Structurally the same as `StreamMetrics` in
 * `@free-lunch/streams`, declared here so this package does not depend on that one.
 */
export interface StreamMetrics {
  handled(stream: string, group: string, count: number): void;
  failed(stream: string, group: string, count: number): void;
  deadLettered(stream: string, group: string, count: number): void;
}

function counter(registry: Registry, name: string, help: string): Counter<'stream' | 'group'> {
  // Several consumers in one app share the registry: reuse what the first one registered.
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<'stream' | 'group'>;
  return new Counter({ name, help, labelNames: ['stream', 'group'], registers: [registry] });
}

/** {@link StreamMetrics} as Prometheus counters in `registry` (usually `app.metrics`). */
export function streamMetrics(registry: Registry): StreamMetrics {
  const handled = counter(registry, 'stream_messages_handled_total', 'Stream messages handled and acknowledged.');
  const failed = counter(registry, 'stream_messages_failed_total', 'Stream message deliveries whose handling threw.');
  const deadLettered = counter(
    registry,
    'stream_messages_dead_lettered_total',
    'Stream messages moved to the dead-letter stream.',
  );
  return {
    handled: (stream, group, count) => handled.inc({ stream, group }, count),
    failed: (stream, group, count) => failed.inc({ stream, group }, count),
    deadLettered: (stream, group, count) => deadLettered.inc({ stream, group }, count),
  };
}

/** How far one consumer group is behind on one stream. */
export interface StreamBacklog {
  stream: string;
  group: string;
  /** Entries not yet delivered to the group. */
  lag: number;
  /** Entries delivered but not yet acknowledged. */
  pending: number;
}

/**
 * `stream_backlog` gauges (lag and pending per stream and group), read from Redis when Prometheus
 * scrapes, so nothing polls between scrapes. A failed read leaves the gauge empty for that scrape
 * rather than failing `/metrics`.
 */
export function streamBacklogMetrics(registry: Registry, read: () => Promise<StreamBacklog[]>): void {
  new Gauge({
    name: 'stream_backlog',
    help: 'Stream entries a consumer group has yet to finish: kind="lag" not yet delivered, kind="pending" delivered but not acked.',
    labelNames: ['stream', 'group', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      const backlog = await read().catch(() => []);
      for (const { stream, group, lag, pending } of backlog) {
        this.set({ stream, group, kind: 'lag' }, lag);
        this.set({ stream, group, kind: 'pending' }, pending);
      }
    },
  });
}

/** How many dead letters one stream's dead-letter stream holds. */
export interface DeadLetterCount {
  stream: string;
  count: number;
}

/**
 * `stream_dead_letters` gauges: the entries in each stream's dead-letter stream (its XLEN), read
 * from Redis when Prometheus scrapes. Unlike `stream_messages_dead_lettered_total`, which counts
 * what this process moved there since it started, it is the same on every replica and survives
 * restarts: what is waiting for someone to look at it. A failed read leaves it empty for that scrape.
 */
export function deadLetterMetrics(registry: Registry, read: () => Promise<DeadLetterCount[]>): void {
  new Gauge({
    name: 'stream_dead_letters',
    help: 'Entries in the dead-letter stream of each consumed stream (messages that could not be handled).',
    labelNames: ['stream'],
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await read().catch(() => []);
      for (const { stream, count } of counts) this.set({ stream }, count);
    },
  });
}
