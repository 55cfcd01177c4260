import { expect, it } from 'vitest';
import { compareTableDefinitions } from '@free-lunch/service-kit/testing';
import { OUTBOX_TABLE_SQL } from '@free-lunch/streams';
import { startInventoryUnderTest } from './support/inventory-app.js';

it("when inventory-app's migrations have run, then its outbox is exactly the table the outbox relay is written for", async () => {
  const { migrated, expected } = await compareTableDefinitions(startInventoryUnderTest, { table: 'outbox', createTableSql: OUTBOX_TABLE_SQL });
  expect(migrated).toEqual(expected);
});
