import type { StreamName } from '@free-lunch/contracts';

/** Counters a {@link StreamConsumer} reports to, e.g. Prometheus counters labelled by stream and group. */
export interface StreamMetrics {
  /** Messages handled and acknowledged. */
  handled(stream: StreamName, group: string, count: number): void;
  /** Handling attempts that threw; the message is retried, or dead-lettered once out of deliveries. */
  failed(stream: StreamName, group: string, count: number): void;
  /** Messages moved to the dead-letter stream (malformed, or failing too many times). */
  deadLettered(stream: StreamName, group: string, count: number): void;
}
