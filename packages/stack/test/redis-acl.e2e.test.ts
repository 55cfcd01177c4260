import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionRedisUsers, removeRedisUsers } from '@free-lunch/service-kit';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { FreeLunchClient, startInProcessStack, type InProcessStack } from '../src/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let stack: InProcessStack;
let prefix: string;
let urls: Record<'orders' | 'kitchen' | 'inventory', string>;
const managerToken = randomBytes(24).toString('hex');

beforeAll(async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  prefix = testKeyPrefix();
  cleanups.push(() => deleteTestKeys(prefix));
  // Users of this test alone: another run's users must not be reset under it.
  const userPrefix = `fl-test-${randomBytes(4).toString('hex')}`;
  urls = await provisionRedisUsers(testEnv.redisUrl, prefix, { userPrefix });
  cleanups.push(() => removeRedisUsers(testEnv.redisUrl, userPrefix));
  stack = await startInProcessStack({
    databaseUrl: database.url,
    redisUrl: testEnv.redisUrl,
    keyPrefix: prefix,
    managerToken,
    env: { COOK_TIME_MS: '0' },
    serviceEnv: { orders: { REDIS_URL: urls.orders }, kitchen: { REDIS_URL: urls.kitchen }, inventory: { REDIS_URL: urls.inventory } },
  });
  cleanups.push(() => stack.close());
});

/** What `url`'s user gets for `command`: 'ok' or Redis's refusal. */
async function attempt(url: string, ...command: [string, ...Array<string | number>]): Promise<string> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    await redis.call(...command);
    return 'ok';
  } catch (error) {
    return (error as Error).message.split(' ')[0]!;
  } finally {
    redis.disconnect();
  }
}

describe('each service is a least-privilege user of Redis', () => {
  it('when every service logs in as its own Redis user, then orders go through and the audit balances', async () => {
    const client = new FreeLunchClient(stack.urls, managerToken);
    await client.placeOrders(40);
    const counts = await client.waitForDelivered(40);
    expect(counts).toMatchObject({ delivered: 40, total: 40 });
    expect((await client.audit()).ok).toBe(true);
    // Each service's connections are its own user's, not the admin's.
    const admin = new Redis(testEnv.redisUrl);
    const clients = String(await admin.call('CLIENT', 'LIST')).split('\n');
    admin.disconnect();
    for (const service of ['orders', 'kitchen', 'inventory']) {
      expect(clients.some((line) => line.includes(`user=${new URL(urls[service as 'orders']).username} `)), service).toBe(true);
    }
  });

  it('when the orders user writes a stream only the warehouse produces, or reaches past its keys, then Redis refuses it', async () => {
    expect(await attempt(urls.orders, 'XADD', `${prefix}inventory.ingredients-dispatched`, '*', 'm', '{}')).toBe('NOPERM');
    expect(await attempt(urls.orders, 'XADD', `${prefix}inventory.stock-changed`, '*', 'm', '{}')).toBe('NOPERM');
    expect(await attempt(urls.orders, 'XRANGE', `${prefix}inventory.stock-changed`, '-', '+')).toBe('ok');
    expect(await attempt(urls.orders, 'GET', 'someone-else:key')).toBe('NOPERM');
    expect(await attempt(urls.kitchen, 'XADD', `${prefix}inventory.stock-changed`, '*', 'm', '{}')).toBe('NOPERM');
    expect(await attempt(urls.kitchen, 'GET', `${prefix}ws-ticket:any`)).toBe('NOPERM');
    expect(await attempt(urls.inventory, 'XADD', `${prefix}kitchen.order-status-changed`, '*', 'm', '{}')).toBe('NOPERM');
  });

  it('when a service\'s outbox relay dead-letters a message of a stream it produces, then Redis lets it, and no one else', async () => {
    const deadLetter = `${prefix}inventory.ingredients-dispatched.dead-letter`;
    expect(await attempt(urls.inventory, 'XADD', deadLetter, '*', 'm', '{}')).toBe('ok');
    expect(await attempt(urls.orders, 'XADD', deadLetter, '*', 'm', '{}')).toBe('NOPERM');
    expect(await attempt(urls.orders, 'XADD', `${prefix}orders.placed.dead-letter`, '*', 'm', '{}')).toBe('ok');
  });

  it.each(['orders', 'kitchen', 'inventory'] as const)('when the %s user tries a server-wide command, then Redis refuses it', async (service) => {
    for (const command of [['KEYS', '*'], ['CONFIG', 'GET', 'maxmemory'], ['ACL', 'LIST'], ['CLIENT', 'LIST']] as const) {
      expect(await attempt(urls[service], ...(command as unknown as [string, ...string[]])), `${service} ${command.join(' ')}`).toBe('NOPERM');
    }
    // Asked without running them (ACL DRYRUN): were one allowed, running it would hurt every other test.
    const admin = new Redis(testEnv.redisUrl);
    try {
      for (const command of [['FLUSHALL'], ['FLUSHDB'], ['SHUTDOWN'], ['CLIENT', 'KILL', 'TYPE', 'normal'], ['CONFIG', 'SET', 'maxmemory', '1']]) {
        const verdict = String(await admin.call('ACL', 'DRYRUN', new URL(urls[service]).username, ...command));
        expect(verdict, `${service} ${command.join(' ')}`).toMatch(/no permissions/);
      }
      expect(String(await admin.call('ACL', 'DRYRUN', new URL(urls[service]).username, 'XLEN', `${prefix}rate-limit:x`))).toBe('OK');
    } finally {
      admin.disconnect();
    }
  });
});
