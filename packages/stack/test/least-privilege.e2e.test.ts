import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionDatabase, serviceRoles, urlAs } from '@free-lunch/service-kit';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix, type TestDatabase } from '@free-lunch/service-kit/testing';
import { FreeLunchClient, startInProcessStack, type InProcessStack } from '../src/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let database: TestDatabase;
let stack: InProcessStack;

beforeAll(async () => {
  database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const keyPrefix = testKeyPrefix();
  cleanups.push(() => deleteTestKeys(keyPrefix));
  const managerToken = randomBytes(24).toString('hex');
  // The stack provisions the roles and runs each service as its own: migrations as the owner.
  stack = await startInProcessStack({ databaseUrl: database.url, redisUrl: testEnv.redisUrl, keyPrefix, managerToken, env: { COOK_TIME_MS: '0' } });
  cleanups.push(() => stack.close());
  const client = new FreeLunchClient(stack.urls, managerToken);
  await client.placeOrders(3);
  await client.waitForDelivered(3);
});

/** What `role` gets when it runs `sql` on this test's database: 'ok', or the SQLSTATE it was refused with. */
async function attempt(role: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: urlAs(database.url, role) });
  await client.connect();
  try {
    await client.query(sql);
    return 'ok';
  } catch (error) {
    return (error as { code: string }).code;
  } finally {
    await client.end();
  }
}

const INSUFFICIENT_PRIVILEGE = '42501';

/** A read and a write of one table of each service. */
const touches = {
  orders: { read: 'SELECT count(*) FROM orders.orders', write: "UPDATE orders.orders SET status = status WHERE id IS NULL" },
  kitchen: { read: 'SELECT count(*) FROM kitchen.tickets', write: 'DELETE FROM kitchen.tickets WHERE false' },
  inventory: { read: 'SELECT count(*) FROM inventory.stock', write: "UPDATE inventory.stock SET on_hand = on_hand WHERE ingredient = 'none'" },
} as const;
type Schema = keyof typeof touches;
const schemas = Object.keys(touches) as Schema[];

describe('each service is a least-privilege user of PostgreSQL', () => {
  it('when the services ran, then each logged in as its own app role, not as the admin', async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    const { rows } = await admin
      .query<{ usename: string; application_name: string }>(
        `SELECT DISTINCT usename, application_name FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE '%-app'`,
        [database.name],
      )
      .finally(() => admin.end());
    expect(rows.map(({ usename, application_name }) => `${application_name}=${usename}`).sort()).toEqual([
      'inventory-app=fl_inventory_app',
      'kitchen-app=fl_kitchen_app',
      'orders-app=fl_orders_app',
    ]);
  });

  it.each(schemas)('when the %s app role reads and writes its own tables, then it may', async (schema) => {
    const { app } = serviceRoles(schema);
    expect(await attempt(app, touches[schema].read)).toBe('ok');
    expect(await attempt(app, touches[schema].write)).toBe('ok');
  });

  it.each(schemas)("when the %s roles touch another service's tables, then they are refused", async (schema) => {
    const { app, owner } = serviceRoles(schema);
    for (const other of schemas.filter((candidate) => candidate !== schema)) {
      for (const role of [app, owner]) {
        expect(await attempt(role, touches[other].read), `${role} reads ${other}`).toBe(INSUFFICIENT_PRIVILEGE);
        expect(await attempt(role, touches[other].write), `${role} writes ${other}`).toBe(INSUFFICIENT_PRIVILEGE);
      }
    }
  });

  it.each(schemas)('when the %s app role tries to change the schema, then it is refused; its owner may', async (schema) => {
    const { app, owner } = serviceRoles(schema);
    expect(await attempt(app, `CREATE TABLE ${schema}.intruder (id int)`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(app, `DROP TABLE ${schema}.pgmigrations`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(app, `TRUNCATE ${touches[schema].read.split(' ').at(-1)}`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(app, 'CREATE TABLE public.intruder (id int)')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(owner, `CREATE TABLE ${schema}.owned (id int); DROP TABLE ${schema}.owned`)).toBe('ok');
  });

  it('when provisioning runs again (every deploy does), then nothing changes and the services keep working', async () => {
    await provisionDatabase({ adminUrl: database.url, schemas });
    for (const schema of schemas) expect(await attempt(serviceRoles(schema).app, touches[schema].write)).toBe('ok');
    const client = new FreeLunchClient(stack.urls, '');
    expect((await client.audit()).ok).toBe(true);
  });
});
