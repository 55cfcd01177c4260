/**
 * Redis Streams messaging for Free Lunch: validated publishing, consumer groups that reclaim work
 * from dead members and dead-letter what cannot be handled, a group-less tail for live views, and
 * the transactional outbox that publishes what PostgreSQL committed.
 *
 * Every message is checked against its stream's contract from `@free-lunch/contracts` when it is
 * written and when it is read. Delivery is at least once: handlers are idempotent.
 *
 * @packageDocumentation
 */

/** Redis key names: `streamKey` for a stream, `deadLetterKey` for its dead letters. */
export { deadLetterKey, streamKey } from './keys.js';
/** Stream entry encoding (one field `m` holding the message JSON), validated both ways. */
export { decodeMessage, encodeMessage, isDecodable, MESSAGE_FIELD } from './codec.js';
export { MalformedMessageError } from './malformed-message-error.js';
export { StreamPublisher, type OutgoingMessage, type StreamPublisherOptions } from './stream-publisher.js';
export { LINGER_FULL_BATCH, StreamConsumer, type ConsumedMessage, type StreamConsumerOptions } from './stream-consumer.js';
export { StreamTail, type StreamTailOptions, type TailEntry } from './stream-tail.js';
export type { StreamMetrics } from './stream-metrics.js';
export { streamBacklog, type StreamBacklog } from './stream-backlog.js';
export { StreamJanitor, type StreamJanitorOptions } from './stream-janitor.js';
/** XADD caps per stream: a last resort for work streams, a small one for the live view's. */
export { LIVE_STREAM_MAX_LENGTH, STREAM_MAX_LENGTHS, WORK_STREAM_MAX_LENGTH } from './retention.js';
export { deadLetterCounts, type DeadLetterCount } from './dead-letter.js';
/** Dead letters for operators: list them, re-drive them to their stream, drop them (`pnpm dead-letters`). */
export {
  DEAD_LETTER_STREAMS,
  dropDeadLetters,
  isStreamName,
  listDeadLetters,
  redriveDeadLetters,
  type DeadLetterEntry,
  type DeadLetterListing,
  type DeadLetterOutcome,
  type DeadLetterSelection,
  type ListDeadLettersOptions,
  type MessageSummary,
  type RedriveOptions,
} from './dead-letter-admin.js';
/** The transactional outbox: the table's DDL, the one-statement enqueue, and the clause that puts it in a statement of the caller's. */
export {
  enqueueOutbox,
  OUTBOX_ROWS_COLUMN,
  OUTBOX_TABLE_SQL,
  outboxInsertClause,
  prepareOutbox,
  type KeyedMessage,
  type OutboxRow,
  type OutboxRows,
  type PreparedOutbox,
  type PublishCommitted,
} from './outbox.js';
export { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
export type { StreamsLogger } from './logger.js';
