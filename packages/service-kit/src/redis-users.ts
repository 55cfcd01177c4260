import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** Which streams a service reads as a consumer group member, appends to, or only tails. */
interface StreamAccess {
  /**
   * Read in a consumer group (XREADGROUP, XACK, XCLAIM, XAUTOCLAIM, trimmed by its janitor), dead
   * letters written, and its members' liveness keys (`member:<stream>:*`) written and read.
   */
  consumes: readonly string[];
  /** Appended to (XADD). */
  produces: readonly string[];
  /** Read without a group (the live view's tail and replay). */
  tails: readonly string[];
  /** Other keys of its own, as patterns after the prefix. */
  own: readonly string[];
}

/** What each service touches in Redis (DESIGN.md's table, and each app's consumers and publishers). */
export const redisAccess: Record<'orders' | 'kitchen' | 'inventory', StreamAccess> = {
  orders: {
    consumes: ['kitchen.order-status-changed'],
    produces: ['orders.placed'],
    tails: ['kitchen.order-status-changed', 'inventory.stock-changed', 'inventory.purchase-recorded'],
    own: ['ws-ticket:*'],
  },
  kitchen: {
    consumes: ['orders.placed', 'inventory.ingredients-dispatched'],
    produces: ['kitchen.ingredients-requested', 'kitchen.order-status-changed'],
    tails: [],
    own: [],
  },
  inventory: {
    consumes: ['kitchen.ingredients-requested'],
    produces: ['inventory.ingredients-dispatched', 'inventory.stock-changed', 'inventory.purchase-recorded'],
    tails: [],
    own: [],
  },
};

/**
 * Commands a service needs: streams, the Lua scripts (publishing, trimming, rate limits), strings
 * (tickets, counters), transactions and its own connection; nothing that reaches the whole server
 * (FLUSHALL, KEYS, CONFIG, DEBUG, SHUTDOWN... are in @dangerous) but the two it uses: INFO, which
 * ioredis reads once connected, and CLIENT UNBLOCK, with which a stopping consumer ends its own read.
 */
const COMMANDS = ['+@stream', '+@scripting', '+@string', '+@keyspace', '+@transaction', '+@connection', '-@dangerous', '+info', '+client|unblock'];

/**
 * The ACL rules of a service's Redis user: the commands above, only on keys under `prefix`, and
 * among those only the streams it consumes, appends to or tails (read-only for what it only tails),
 * the dead-letter streams of what it consumes and of what it produces (its outbox relay dead-letters
 * a message that no longer matches its contract), group members' liveness keys for what it consumes,
 * the rate-limit counters, and its own keys.
 */
export function redisAclRules(service: keyof typeof redisAccess, prefix: string): string[] {
  const access = redisAccess[service];
  const readWrite = [
    ...access.consumes.flatMap((stream) => [stream, `${stream}.dead-letter`, `member:${stream}:*`]),
    ...access.produces.flatMap((stream) => [stream, `${stream}.dead-letter`]),
    'rate-limit:*',
    ...access.own,
  ];
  const readOnly = access.tails.filter((stream) => !readWrite.includes(stream));
  return [
    'resetkeys',
    'resetchannels',
    ...[...new Set(readWrite)].map((pattern) => `~${prefix}${pattern}`),
    ...readOnly.map((pattern) => `%R~${prefix}${pattern}`),
    '-@all',
    ...COMMANDS,
  ];
}

/** One service's Redis user: its name and a password made for this run. */
export interface RedisUser {
  user: string;
  password: string;
}

/**
 * Creates (or resets) a Redis user per service with {@link redisAclRules}, as the user of
 * `adminUrl`, and returns the URL each service logs in with. Throws when the server refuses ACL
 * SETUSER (no rights, or not Redis 7): callers decide whether to go on as the admin user.
 */
export async function provisionRedisUsers(
  adminUrl: string,
  prefix: string,
  { userPrefix = 'fl' }: { userPrefix?: string } = {},
): Promise<Record<keyof typeof redisAccess, string>> {
  const admin = new Redis(adminUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  try {
    const urls = {} as Record<keyof typeof redisAccess, string>;
    for (const service of Object.keys(redisAccess) as Array<keyof typeof redisAccess>) {
      const user = `${userPrefix}-${service}`;
      const password = randomBytes(24).toString('base64url');
      await admin.call('ACL', 'SETUSER', user, 'reset', 'on', `>${password}`, ...redisAclRules(service, prefix));
      const url = new URL(adminUrl);
      url.username = user;
      url.password = password;
      urls[service] = url.toString();
    }
    return urls;
  } finally {
    admin.disconnect();
  }
}

/** Removes the users {@link provisionRedisUsers} made (for tests; a stack keeps them for its next start). */
export async function removeRedisUsers(adminUrl: string, userPrefix: string): Promise<void> {
  const admin = new Redis(adminUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  try {
    await admin.call('ACL', 'DELUSER', ...Object.keys(redisAccess).map((service) => `${userPrefix}-${service}`));
  } finally {
    admin.disconnect();
  }
}
