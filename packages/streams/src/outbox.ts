import pg from 'pg';
import { validateMessage } from './codec.js';
import type { OutgoingMessage } from './stream-publisher.js';

/**
 * DDL for a service's outbox table; include it in the service's first migration (the table lands
 * in the schema on the search path). Rows are events committed with the change they announce,
 * waiting for the {@link OutboxRelay} to publish them. A row's `message` is either one message or,
 * as {@link enqueueOutbox} writes them, a JSON array of the messages one transaction bound for one
 * stream: each is still published as an entry of its own.
 */
export const OUTBOX_TABLE_SQL = `CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  stream text NOT NULL,
  message jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`;

/** Most messages one outbox row holds, so a relay batch of rows stays a bounded number of messages. */
export const MAX_MESSAGES_PER_ROW = 100;

/**
 * Validates every message (one invalid → nothing is inserted) and inserts them inside the caller's
 * transaction, so they are published only if it commits (given a pool, in one statement of their
 * own): one row per stream (per {@link MAX_MESSAGES_PER_ROW} messages), holding that stream's
 * messages in the order given. A
 * transaction announcing 500 orders writes, locks and deletes ten rows instead of a thousand; the
 * relay still publishes one stream entry per message. Messages for different streams are grouped by
 * stream, so their relative order across streams is not kept (no consumer relies on it: each stream
 * is read on its own). `table` is the outbox's name, optionally schema-qualified, e.g. `kitchen.outbox`.
 *
 * Returns the rows inserted: once the transaction has committed, hand them to the table's
 * {@link OutboxRelay.publishCommitted} and they are published at once, without a transaction of
 * the relay's own. Rows never handed over (a crash after the commit) are the relay's poll's.
 */
export async function enqueueOutbox(
  client: pg.Pool | pg.ClientBase,
  table: string,
  entries: OutgoingMessage[],
): Promise<OutboxRows> {
  if (entries.length === 0) return [];
  const byStream = new Map<string, unknown[]>();
  for (const { stream, message } of entries) {
    const validated = validateMessage(stream, message);
    const messages = byStream.get(stream);
    if (messages) messages.push(validated);
    else byStream.set(stream, [validated]);
  }
  const rows: Array<{ s: string; m: unknown[] }> = [];
  for (const [stream, messages] of byStream) {
    for (let start = 0; start < messages.length; start += MAX_MESSAGES_PER_ROW) {
      rows.push({ s: stream, m: messages.slice(start, start + MAX_MESSAGES_PER_ROW) });
    }
  }
  // One JSON document for the whole batch: a text[] or jsonb[] parameter would have the driver
  // escape every message into an array literal, which costs more than the insert itself.
  // WITH ORDINALITY + ORDER BY: ids follow the order of first appearance, the order of publication.
  // Named, so each connection plans it once: every transaction that changes anything runs it.
  const { rows: inserted } = await client.query<{ id: string }>({
    name: `outbox-enqueue:${table}`,
    text: `INSERT INTO ${quoteTable(table)} (stream, message)
           SELECT e.row->>'s', e.row->'m' FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(row, position)
           ORDER BY e.position
           RETURNING id`,
    values: [JSON.stringify(rows)],
  });
  // Ids were drawn in the order the rows were given; RETURNING lists them in no promised order.
  const ids = inserted.map((row) => row.id).sort(byOutboxId);
  return rows.map((row, index) => {
    const id = ids[index];
    if (id === undefined) throw new Error(`the outbox insert returned ${ids.length} ids for ${rows.length} rows`);
    return { id, stream: row.s, message: row.m };
  });
}

/** An outbox row as the relay publishes it. */
export interface OutboxRow {
  /** The row's id (bigserial), as PostgreSQL prints it. */
  id: string;
  stream: string;
  /** One message, or (as enqueueOutbox writes them) an array of messages for the same stream. */
  message: unknown;
}

/** Rows one or more {@link enqueueOutbox} calls inserted, for {@link OutboxRelay.publishCommitted}. */
export type OutboxRows = readonly OutboxRow[];

/** Hands rows committed just now to the outbox relay (`OutboxRelay.publishCommitted`). */
export type PublishCommitted = (rows: OutboxRows) => void;

/** Outbox ids are bigserial, read as decimal strings: the shorter is the smaller. */
export function byOutboxId(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** A table name, optionally schema-qualified, safe to splice into SQL. */
export function quoteTable(table: string): string {
  return table.split('.').map((part) => pg.escapeIdentifier(part)).join('.');
}

/** A message a statement announces, under the key of the row whose change it announces. */
export type KeyedMessage = OutgoingMessage & {
  /** Compared, as text, by the statement's `keep` condition (an order id, say). */
  key: string;
};

/**
 * The outbox insert as a clause of a larger statement: for a change that fits in one statement,
 * the statement changes its rows and enqueues their announcements in one round trip, atomic
 * without a transaction of its own (a statement is one). Returns a data-modifying CTE named
 * `outbox_rows` (put it after the CTEs it refers to) that inserts those of the messages in
 * parameter `param` (written by {@link outboxMessagesParam}) whose key passes `keep`, an SQL
 * condition on the key's text (`keep(k)` is given the expression of the key), so a message is
 * written only if the change it announces was made. Rows are made as {@link enqueueOutbox} makes
 * them: one per stream per {@link MAX_MESSAGES_PER_ROW} messages, ids in the messages' order. Select
 * {@link OUTBOX_ROWS_COLUMN} in the statement, and read it with {@link outboxRowsOf}.
 */
export function outboxInsertClause(table: string, param: string, keep: (key: string) => string): string {
  return `outbox_rows AS (
    INSERT INTO ${quoteTable(table)} (stream, message)
    SELECT kept.stream, jsonb_agg(kept.message ORDER BY kept.position)
      FROM (SELECT e.entry->>'s' AS stream, e.entry->'m' AS message, e.position,
                   (row_number() OVER (PARTITION BY e.entry->>'s' ORDER BY e.position) - 1) / ${MAX_MESSAGES_PER_ROW} AS chunk
              FROM jsonb_array_elements(${param}::jsonb) WITH ORDINALITY AS e(entry, position)
             WHERE ${keep(`(e.entry->>'k')`)}) AS kept
     GROUP BY kept.stream, kept.chunk
     ORDER BY min(kept.position)
    RETURNING id, stream, message
  )`;
}

/** The column, named `outbox`, that lists what {@link outboxInsertClause} wrote; read it with {@link outboxRowsOf}. */
export const OUTBOX_ROWS_COLUMN = `(SELECT coalesce(json_agg(json_build_object('id', o.id::text, 'stream', o.stream, 'message', o.message) ORDER BY o.id), '[]'::json)
     FROM outbox_rows AS o) AS outbox`;

/** Validates every message (one invalid → throws, nothing runs) and writes the parameter of {@link outboxInsertClause}. */
export function outboxMessagesParam(messages: readonly KeyedMessage[]): string {
  return JSON.stringify(messages.map(({ key, stream, message }) => ({ k: key, s: stream, m: validateMessage(stream, message) })));
}

/** The rows {@link OUTBOX_ROWS_COLUMN} lists, in id order, for {@link OutboxRelay.publishCommitted}. */
export function outboxRowsOf(column: unknown): OutboxRows {
  if (!Array.isArray(column)) throw new Error('the statement did not select the outbox column');
  return column as OutboxRow[];
}
