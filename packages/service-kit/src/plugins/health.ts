import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { HealthResponse, ReadyResponse } from '@free-lunch/contracts';

/** A dependency the service cannot work without; resolves when it answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

export interface HealthOptions {
  service: string;
  readinessChecks: Record<string, ReadinessCheck>;
  /** How long one check may take before it counts as failed. */
  readinessTimeoutMs: number;
}

/** Runs one check; resolves to why it failed, or `undefined` when it passed. */
async function failureOf(check: ReadinessCheck, timeoutMs: number): Promise<string | undefined> {
  const abandon = new AbortController();
  try {
    // A dependency that hangs (e.g. a blackholed Redis) must fail the probe, not stall it.
    return await Promise.race([
      check().then(() => undefined),
      sleep(timeoutMs, `no answer within ${timeoutMs} ms`, { signal: abandon.signal }),
    ]);
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)) || 'failed';
  } finally {
    abandon.abort();
  }
}

/** GET /health (the process is alive) and GET /ready (its dependencies answer; 503 when not). */
export const healthPlugin: FastifyPluginAsync<HealthOptions> = async (app, options) => {
  const { service, readinessChecks, readinessTimeoutMs } = options;
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get(
    '/health',
    { schema: { tags: ['operations'], summary: 'The process is alive', response: { 200: HealthResponse } } },
    async () => ({ status: 'ok' as const, service }),
  );

  routes.get(
    '/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'Every dependency answers (503 when one does not)',
        response: { 200: ReadyResponse, 503: ReadyResponse },
      },
    },
    async (request, reply) => {
      const outcomes = await Promise.all(
        Object.entries(readinessChecks).map(
          async ([name, check]) => [name, await failureOf(check, readinessTimeoutMs)] as const,
        ),
      );
      const checks = Object.fromEntries(outcomes.map(([name, failure]) => [name, failure === undefined]));
      const failures = Object.fromEntries(outcomes.filter(([, failure]) => failure !== undefined));
      const ready = Object.keys(failures).length === 0;
      if (!ready) request.log.warn({ failures }, 'not ready');
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
};
