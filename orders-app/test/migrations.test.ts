import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OUTBOX_TABLE_SQL } from '@free-lunch/streams';

const migrationsDir = new URL('../migrations/', import.meta.url);
const squeeze = (sql: string) => sql.replace(/\s+/g, ' ').trim();

describe('migrations', () => {
  it('when the outbox table is created, then it is exactly the table the outbox relay expects', () => {
    const [first] = readdirSync(migrationsDir).filter((name) => name.endsWith('.sql')).sort();
    const sql = readFileSync(new URL(first!, migrationsDir), 'utf8');
    expect(squeeze(sql)).toContain(squeeze(OUTBOX_TABLE_SQL));
  });
});
