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
  const rows = rowsByStream(entries.map((entry) => ({ ...entry, key: '' })));
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
    values: [JSON.stringify(rows.map(({ s, m }) => ({ s, m })))],
  });
  return withIds(rows, inserted.map((row) => row.id));
}

/** Outbox rows as written: a stream, its messages in order, and the key of each. */
interface RowToWrite {
  s: string;
  m: unknown[];
  k: string[];
}

/** Validates every message, then groups them by stream, {@link MAX_MESSAGES_PER_ROW} to a row, in order of first appearance. */
function rowsByStream(entries: readonly KeyedMessage[]): RowToWrite[] {
  const byStream = new Map<string, { m: unknown[]; k: string[] }>();
  for (const { stream, message, key } of entries) {
    const validated = validateMessage(stream, message);
    const messages = byStream.get(stream);
    if (messages) {
      messages.m.push(validated);
      messages.k.push(key);
    } else byStream.set(stream, { m: [validated], k: [key] });
  }
  const rows: RowToWrite[] = [];
  for (const [stream, { m, k }] of byStream) {
    for (let start = 0; start < m.length; start += MAX_MESSAGES_PER_ROW) {
      rows.push({ s: stream, m: m.slice(start, start + MAX_MESSAGES_PER_ROW), k: k.slice(start, start + MAX_MESSAGES_PER_ROW) });
    }
  }
  return rows;
}

/** Pairs rows with the ids an insert drew for them, in the order given (RETURNING lists them in no promised order). */
function withIds(rows: readonly RowToWrite[], returned: readonly string[]): OutboxRows {
  const ids = [...returned].sort(byOutboxId);
  if (ids.length !== rows.length) throw new Error(`the outbox insert returned ${ids.length} ids for ${rows.length} rows`);
  return rows.map((row, index) => ({ id: ids[index]!, stream: row.s, message: row.m }));
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
 * `outbox_rows` (put it after the CTEs it refers to) that inserts the messages of parameter `param`
 * ({@link PreparedOutbox.param}) whose key passes `keep`, an SQL condition on the key's text
 * (`keep(k)` is given the expression of the key), so a message is written only if the change it
 * announces was made. Rows are made as {@link enqueueOutbox} makes them, one per stream per
 * {@link MAX_MESSAGES_PER_ROW} messages; a row whose messages all pass goes in whole, and only a row
 * where some do not is taken apart, so the usual statement pays per row, not per message. Select
 * {@link OUTBOX_ROWS_COLUMN} in the statement, and read it with {@link PreparedOutbox.written}.
 */
export function outboxInsertClause(table: string, param: string, keep: (key: string) => string): string {
  return `outbox_rows AS (
    INSERT INTO ${quoteTable(table)} (stream, message)
    SELECT r.row->>'s',
           CASE WHEN r.kept = jsonb_array_length(r.row->'k') THEN r.row->'m'
                ELSE (SELECT jsonb_agg(m.message ORDER BY m.i)
                        FROM jsonb_array_elements(r.row->'m') WITH ORDINALITY AS m(message, i)
                       WHERE ${keep(`(r.row->'k'->>(m.i::int - 1))`)}) END
      FROM (SELECT e.row, e.position,
                   (SELECT count(*) FROM jsonb_array_elements_text(e.row->'k') AS k(key) WHERE ${keep('k.key')}) AS kept
              FROM jsonb_array_elements(${param}::jsonb) WITH ORDINALITY AS e(row, position)) AS r
     WHERE r.kept > 0
     ORDER BY r.position
    RETURNING id
  )`;
}

/** The column, named `outbox`, of the ids {@link outboxInsertClause} drew; read it with {@link PreparedOutbox.written}. */
export const OUTBOX_ROWS_COLUMN = `(SELECT coalesce(array_agg(o.id::text), '{}') FROM outbox_rows AS o) AS outbox`;

/** Messages ready for {@link outboxInsertClause}. */
export interface PreparedOutbox {
  /** The clause's parameter: the messages, validated and grouped into rows. */
  readonly param: string;
  /**
   * The rows the statement wrote, for {@link OutboxRelay.publishCommitted}, given its
   * {@link OUTBOX_ROWS_COLUMN} and which keys its `keep` passed (the same condition, in JavaScript).
   */
  written(column: unknown, kept: (key: string) => boolean): OutboxRows;
}

/** Validates every message (one invalid → throws, nothing runs) and groups them as {@link outboxInsertClause} writes them. */
export function prepareOutbox(messages: readonly KeyedMessage[]): PreparedOutbox {
  const rows = rowsByStream(messages);
  return {
    param: JSON.stringify(rows),
    written(column, kept) {
      if (!Array.isArray(column)) throw new Error('the statement did not select the outbox column');
      const keptRows = rows.flatMap((row) => {
        const keys = row.k.filter(kept);
        if (keys.length === row.k.length) return [row];
        if (keys.length === 0) return [];
        const m = row.m.filter((_, index) => kept(row.k[index]!));
        return [{ ...row, m, k: keys }];
      });
      return withIds(keptRows, column as string[]);
    },
  };
}
