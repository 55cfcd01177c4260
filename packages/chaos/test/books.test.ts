import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@free-lunch/service-kit/testing';
import { Books } from '../src/books.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Each service's migrations, up parts only, into its own schema: the tables the verdict reads, as the services make them. */
async function migrateAll(client: pg.Client): Promise<void> {
  for (const [schema, dir] of [
    ['orders', 'orders-app'],
    ['kitchen', 'kitchen-app'],
    ['inventory', 'inventory-app'],
  ] as const) {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`SET search_path TO ${schema}`);
    const files = (await readdir(`${repoRoot}${dir}/migrations`)).filter((file) => file.endsWith('.sql')).sort();
    for (const file of files) {
      const sql = await readFile(`${repoRoot}${dir}/migrations/${file}`, 'utf8');
      await client.query(sql.split('-- Down Migration')[0]!);
    }
  }
  await client.query('SET search_path TO public');
}

let database: TestDatabase;
let client: pg.Client;
let books: Books;

beforeAll(async () => {
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await migrateAll(client);
  books = new Books(database.url);
});

afterAll(async () => {
  await books?.close();
  await client?.end();
  await database?.drop();
});

const pizza = [
  { ingredient: 'cheese', quantity: 2 },
  { ingredient: 'tomato', quantity: 3 },
];

/** One order as the three services record it once delivered: its recipe, ticket, request and dispatch. */
async function deliveredOrder({
  recipe = 'pizza',
  ticketRecipe = recipe,
  dispatch = pizza,
}: { recipe?: string; ticketRecipe?: string; dispatch?: Array<{ ingredient: string; quantity: number }> } = {}): Promise<string> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO orders.orders (id, status, recipe, created_at, updated_at)
     VALUES ($1, 'delivered', $2, '2026-01-01T00:00:00Z', '2026-01-01T00:00:05Z')`,
    [id, recipe],
  );
  await client.query(
    `INSERT INTO kitchen.tickets (order_id, recipe, status, requested_at, dispatched_at, ready_at, delivered_at)
     VALUES ($1, $2, 'delivered', now(), now(), now(), now())`,
    [id, ticketRecipe],
  );
  await client.query(
    `INSERT INTO inventory.requests (order_id, recipe, ingredients, requested_at, status, dispatched_at)
     VALUES ($1, $2, $3, now(), 'dispatched', now())`,
    [id, ticketRecipe, JSON.stringify(pizza)],
  );
  for (const { ingredient, quantity } of dispatch) {
    await client.query(
      `INSERT INTO inventory.stock_ledger (ingredient, delta, reason, order_id, at) VALUES ($1, $2, 'dispatch', $3, now())`,
      [ingredient, -quantity, id],
    );
  }
  return id;
}

describe("the run's books", () => {
  it('when every service recorded an order the same way, then it is not a duplicate; when they disagree, it is, once, by kind', async () => {
    const fine = await deliveredOrder();
    await deliveredOrder({ ticketRecipe: 'salad' });
    await deliveredOrder({ dispatch: [{ ingredient: 'cheese', quantity: 4 }, { ingredient: 'tomato', quantity: 3 }] });
    await deliveredOrder({ dispatch: [{ ingredient: 'cheese', quantity: 2 }] });
    const queued = randomUUID();
    await client.query(
      `INSERT INTO orders.orders (id, status, created_at, updated_at) VALUES ($1, 'queued', '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z')`,
      [queued],
    );

    expect(await books.duplicates()).toEqual({ twoRecipes: 1, wrongDispatches: 2, total: 3 });
    expect(await books.progress()).toEqual({ orders: 5, delivered: 4 });
    const deliveries = await books.deliveries();
    expect(deliveries.get(fine)).toEqual({ status: 'delivered', deliveredAtMs: Date.parse('2026-01-01T00:00:05Z') });
    expect(deliveries.get(queued)).toEqual({ status: 'queued', deliveredAtMs: null });
    expect(await books.unitsBought()).toBe(0);
  });
});
