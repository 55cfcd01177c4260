import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { redisPlugin } from '../src/index.js';
import { testEnv, testKeyPrefix } from '../src/testing.js';

describe('redisPlugin', () => {
  it('when the app is ready, then app.redis talks to Redis', async () => {
    const app = Fastify();
    await app.register(redisPlugin, { url: testEnv.redisUrl });
    await app.ready();
    const key = `${testKeyPrefix()}greeting`;
    try {
      await app.redis.set(key, 'hello', 'EX', 60);
      expect(await app.redis.get(key)).toBe('hello');
    } finally {
      await app.redis.del(key);
      await app.close();
    }
  });

  it('when the app closes, then the connection is closed', async () => {
    const app = Fastify();
    await app.register(redisPlugin, { url: testEnv.redisUrl });
    await app.ready();
    await app.redis.ping();

    await app.close();

    expect(app.redis.status).toBe('end');
  });

  it('when Redis is unreachable, then the app still starts (readiness reports it) and closes', async () => {
    const app = Fastify();
    await app.register(redisPlugin, { url: 'redis://127.0.0.1:1' });

    await app.ready();

    expect(app.redis.status).not.toBe('ready');
    await app.close();
  });
});
