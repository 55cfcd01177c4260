import pg from 'pg';
import { validateMessage } from './codec.js';
import type { OutgoingMessage } from './stream-publisher.js';

/**
 * DDL for a service's outbox table; include it in the service's first migration (the table lands
 * in the schema on the search path). Rows are events committed with the change they announce,
 * waiting for the {@link OutboxRelay} to publish them.
 */
export const OUTBOX_TABLE_SQL = `CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  stream text NOT NULL,
  message jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Validates every message (one invalid → nothing is inserted) and inserts them all in ONE
 * statement, inside the caller's transaction, so they are published only if it commits.
 * `table` is the outbox's name, optionally schema-qualified, e.g. `kitchen.outbox`.
 */
export async function enqueueOutbox(client: pg.ClientBase, table: string, entries: OutgoingMessage[]): Promise<void> {
  if (entries.length === 0) return;
  const streams: string[] = [];
  const messages: string[] = [];
  for (const { stream, message } of entries) {
    streams.push(stream);
    messages.push(JSON.stringify(validateMessage(stream, message)));
  }
  // WITH ORDINALITY + ORDER BY: ids follow the given order, which is the order of publication.
  await client.query(
    `INSERT INTO ${quoteTable(table)} (stream, message)
     SELECT stream, message FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS e(stream, message, position)
     ORDER BY position`,
    [streams, messages],
  );
}

/** A table name, optionally schema-qualified, safe to splice into SQL. */
export function quoteTable(table: string): string {
  return table.split('.').map((part) => pg.escapeIdentifier(part)).join('.');
}
