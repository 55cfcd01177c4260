import fp from 'fastify-plugin';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { errorHandlerPlugin } from './error-handler.js';
import { healthPlugin, type ReadinessCheck } from './health.js';
import { metricsPlugin } from './metrics.js';
import { swaggerPlugin } from './swagger.js';

export interface KitOptions {
  /** The service's name: OpenAPI title, `service` label on metrics, body of /health. */
  service: string;
  /** One paragraph for the OpenAPI document. */
  description: string;
  version: string;
  /** What /ready runs, e.g. `{ postgres: () => app.pg.query('SELECT 1'), redis: () => app.redis.ping() }`. */
  readinessChecks?: Record<string, ReadinessCheck>;
  /** How long one readiness check may take before it counts as failed; default 2000. */
  readinessTimeoutMs?: number;
}

/**
 * What every service's HTTP side shares: zod validation and serialization, JSON errors, OpenAPI +
 * Swagger UI, /health, /ready, /metrics. Register it first in `buildApp`, before any route.
 */
export const kitPlugin = fp<KitOptions>(
  async (app, options) => {
    const { service, description, version, readinessChecks = {}, readinessTimeoutMs = 2000 } = options;
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    // Bodies are JSON only: a text/plain body would otherwise reach validation as a string and come
    // back as "expected object, received string" instead of "send JSON".
    app.removeContentTypeParser('text/plain');
    await app.register(errorHandlerPlugin);
    await app.register(swaggerPlugin, { service, description, version });
    await app.register(metricsPlugin, { service });
    await app.register(healthPlugin, { service, readinessChecks, readinessTimeoutMs });
  },
  { name: 'free-lunch-kit', fastify: '5.x' },
);
