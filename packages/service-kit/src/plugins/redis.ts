import { once } from 'node:events';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis;
  }
}

/**
 * An ioredis client as `app.redis`. It connects in the background and keeps reconnecting, so a
 * Redis outage shows on /ready instead of stopping the service from starting.
 */
export const redisPlugin = fp<{ url: string }>(
  async (app, { url }) => {
    const redis = new Redis(url);
    // Without a listener ioredis prints every failed reconnect to stderr, outside the logs.
    redis.on('error', (error) => app.log.warn({ err: error }, 'redis connection error'));
    app.decorate('redis', redis);
    app.addHook('onClose', async () => {
      if (redis.status === 'ready') {
        // QUIT lets replies still owed arrive; the socket is closed once 'end' fires.
        await Promise.all([once(redis, 'end'), redis.quit()]);
      } else {
        // Not connected: nothing is owed; stop the reconnection attempts.
        redis.disconnect();
      }
    });
  },
  { name: 'free-lunch-redis', fastify: '5.x' },
);
