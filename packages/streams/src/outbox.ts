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
 * transaction, so they are published only if it commits: one row per stream (per
 * {@link MAX_MESSAGES_PER_ROW} messages), holding that stream's messages in the order given. A
 * transaction announcing 500 orders writes, locks and deletes ten rows instead of a thousand; the
 * relay still publishes one stream entry per message. Messages for different streams are grouped by
 * stream, so their relative order across streams is not kept (no consumer relies on it: each stream
 * is read on its own). `table` is the outbox's name, optionally schema-qualified, e.g. `kitchen.outbox`.
 */
export async function enqueueOutbox(client: pg.ClientBase, table: string, entries: OutgoingMessage[]): Promise<void> {
  if (entries.length === 0) return;
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
  await client.query({
    name: `outbox-enqueue:${table}`,
    text: `INSERT INTO ${quoteTable(table)} (stream, message)
           SELECT e.row->>'s', e.row->'m' FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(row, position)
           ORDER BY e.position`,
    values: [JSON.stringify(rows)],
  });
}

/** A table name, optionally schema-qualified, safe to splice into SQL. */
export function quoteTable(table: string): string {
  return table.split('.').map((part) => pg.escapeIdentifier(part)).join('.');
}
