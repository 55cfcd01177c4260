import type { Redis } from 'ioredis';
import type { ChaosStack } from '../chaos-stack.js';
import type { ScheduledFault } from '../schedule.js';
import { misbehave } from './market.js';
import { cutSessions, type PostgresOutage } from './postgres.js';
import { cutConnectionsOfUsers, wipe, writePoison } from './redis.js';

/** What injecting a fault needs to reach. */
export interface FaultContext {
  stack: ChaosStack;
  /** The run's own Redis connection, as REDIS_URL's user. */
  redis: Redis;
  postgresOutage: PostgresOutage;
  /** Wipe Redis with FLUSHALL rather than by deleting the run's keys. */
  flushRedis: boolean;
}

/** A fault under way: what it did, and, for one that is held, how to undo it. */
export interface Injection {
  detail: string;
  /** Ends the fault; answers what it did. */
  undo?: () => Promise<string>;
  /** Poison entries written by this fault. */
  poison?: number;
}

/** Injects one scheduled fault. */
export async function inject(fault: ScheduledFault, context: FaultContext): Promise<Injection> {
  const { stack, redis } = context;
  switch (fault.kind) {
    case 'kill':
      await stack.kill(fault.target);
      return {
        detail: 'SIGKILL',
        undo: async () => {
          await stack.restart(fault.target);
          return `${fault.target} started again and ready`;
        },
      };
    case 'postgres-sessions-cut':
      return { detail: `terminated ${await cutSessions(stack.adminDatabaseUrl)} sessions of ${stack.databaseName}` };
    case 'postgres-outage':
      return { detail: await context.postgresOutage.begin(), undo: () => context.postgresOutage.end() };
    case 'redis-connections-cut':
      return { detail: await cutRedisConnections(context) };
    case 'redis-wipe': {
      const deleted = await wipe(redis, stack.keyPrefix, { flushAll: context.flushRedis });
      return { detail: context.flushRedis ? `FLUSHALL: ${deleted} keys` : `deleted ${deleted} keys under ${stack.keyPrefix}` };
    }
    case 'poison': {
      const written = await writePoison(redis, stack.keyPrefix);
      return { detail: `${written} garbage entries written into the work streams`, poison: written };
    }
    default: {
      const restore = await misbehave(stack.marketUrl, fault.kind);
      return {
        detail: 'market misbehaving',
        undo: async () => {
          await restore();
          return 'market behaving again';
        },
      };
    }
  }
}

async function cutRedisConnections({ stack, redis }: FaultContext): Promise<string> {
  if (stack.redisUsers) {
    const users = ['orders', 'kitchen', 'inventory'].map((service) => `${stack.redisUserPrefix}-${service}`);
    return `closed ${await cutConnectionsOfUsers(redis, users)} connections (CLIENT KILL USER)`;
  }
  const proxy = stack.redisProxy!;
  await proxy.unplug();
  await proxy.plugIn();
  return 'dropped every connection through the Redis proxy';
}
