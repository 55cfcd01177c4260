import Fastify, { type FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, kitPlugin, type KitOptions } from '../src/index.js';

const NewDish = z
  .object({
    name: z.string().min(1, 'name must not be empty'),
    portions: z.number().int().min(1, 'portions must be at least 1'),
  })
  .strict();

/** A tiny service: the kit plus a few routes that succeed or fail in the ways a real one does. */
async function buildTinyApp(options: Partial<KitOptions> = {}) {
  const logLines: string[] = [];
  const app = Fastify({ logger: { level: 'info', stream: { write: (line: string) => void logLines.push(line) } } });
  await app.register(kitPlugin, { service: 'tiny', description: 'A tiny test service', version: '1.2.3', ...options });
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.post(
    '/dishes',
    { schema: { body: NewDish, response: { 201: z.object({ id: z.number(), name: z.string() }) } } },
    async (request, reply) => reply.code(201).send({ id: 1, name: request.body.name }),
  );
  routes.get('/dishes/:id', { schema: { params: z.object({ id: z.coerce.number().int() }) } }, async (request) => ({
    id: request.params.id,
  }));
  routes.get('/broken', async () => {
    throw new Error('connection to db-7.internal refused, password hunter2');
  });
  routes.get('/sold-out', async () => {
    throw new AppError('sold_out', 'No more pizza today.', 409, { details: { recipe: 'pizza' } });
  });
  await app.ready();
  return { app, logLines };
}

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('kitPlugin errors', () => {
  it('when a body field is invalid, then 400 validation_failed names the field and the reason', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'POST', url: '/dishes', payload: { name: 'soup', portions: 0 } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: 'validation_failed',
      message: 'body.portions: portions must be at least 1',
    });
  });

  it('when several fields are wrong, then the message names each of them', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'POST', url: '/dishes', payload: { name: '', portions: 'two' } });
    expect(response.statusCode).toBe(400);
    const { message } = response.json();
    expect(message).toContain('body.name: name must not be empty');
    expect(message).toContain('body.portions:');
  });

  it('when the body has an unknown field, then 400 says which', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'POST', url: '/dishes', payload: { name: 'soup', portions: 1, spicy: true } });
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toContain('spicy');
  });

  it('when a path parameter is invalid, then 400 names it', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'GET', url: '/dishes/abc' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'validation_failed', message: expect.stringMatching(/^params\.id: /) });
  });

  it('when the body is not valid JSON, then 400 invalid_json', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({
      method: 'POST',
      url: '/dishes',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "soup",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'invalid_json', message: 'The request body is not valid JSON.' });
  });

  it('when there is no body at all, then 400 says a body is required', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'POST', url: '/dishes' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'validation_failed', message: expect.stringContaining('request body is required') });
  });

  it('when the content-type says JSON but the body is empty, then 400 missing_body', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'POST', url: '/dishes', headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'missing_body' });
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'name=soup&portions=1'],
    ['plain text', 'text/plain; charset=utf-8', '{"name":"soup","portions":1}'],
  ])('when the body is %s, not JSON, then 400 says to send JSON', async (_kind, contentType, payload) => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'POST', url: '/dishes', headers: { 'content-type': contentType }, payload });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'unsupported_content_type', message: expect.stringContaining('application/json') });
  });

  it('when the route does not exist, then 404 not_found JSON', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/json');
    expect(response.json()).toEqual({ error: 'not_found', message: 'No route GET /nowhere.' });
  });

  it('when a handler throws an unexpected error, then 500 internal_error without internals, and it is logged', async () => {
    let logLines: string[];
    ({ app, logLines } = await buildTinyApp());
    const response = await app.inject({ method: 'GET', url: '/broken' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: 'internal_error', message: 'Something went wrong on our side.' });
    expect(response.body).not.toContain('hunter2');
    expect(response.body).not.toContain('stack');
    const logged = logLines.map((line) => JSON.parse(line)).find((entry) => entry.err);
    expect(logged).toMatchObject({ level: 50, err: { message: expect.stringContaining('db-7.internal') } });
  });

  it('when a handler throws an AppError, then its status, code, message and details are returned', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'GET', url: '/sold-out' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ error: 'sold_out', message: 'No more pizza today.', details: { recipe: 'pizza' } });
  });

  it('when the body is valid, then the route answers normally', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'POST', url: '/dishes', payload: { name: 'soup', portions: 2 } });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ id: 1, name: 'soup' });
  });
});

describe('kitPlugin health and readiness', () => {
  it('when asked /health, then it says the service is alive', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok', service: 'tiny' });
  });

  it('when every check passes, then /ready answers 200 ready', async () => {
    ({ app } = await buildTinyApp({ readinessChecks: { a: async () => 'fine', b: async () => undefined } }));
    const response = await app.inject({ method: 'GET', url: '/ready' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { a: true, b: true } });
  });

  it('when a check fails or never answers, then /ready answers 503 naming it', async () => {
    ({ app } = await buildTinyApp({
      readinessTimeoutMs: 100,
      readinessChecks: {
        fine: async () => undefined,
        failing: async () => {
          throw new Error('connection refused');
        },
        hanging: () => new Promise(() => {}),
      },
    }));
    const response = await app.inject({ method: 'GET', url: '/ready' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'not_ready', checks: { fine: true, failing: false, hanging: false } });
  });
});

describe('kitPlugin metrics', () => {
  it('when requests were answered, then /metrics counts them by route template and status', async () => {
    ({ app } = await buildTinyApp());
    await app.inject({ method: 'GET', url: '/dishes/7' });
    await app.inject({ method: 'GET', url: '/dishes/8' });
    await app.inject({ method: 'GET', url: '/sold-out' });

    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    const lines = response.body.split('\n');
    const sample = (route: string, status: string) =>
      lines.find((line) => line.startsWith('http_requests_total{') && line.includes(`route="${route}"`) && line.includes(`status_code="${status}"`));
    expect(sample('/dishes/:id', '200')).toMatch(/method="GET".* 2$/);
    expect(sample('/sold-out', '409')).toMatch(/ 1$/);
    expect(response.body).toContain('http_request_duration_seconds_bucket{');
    expect(response.body).toContain('process_cpu_user_seconds_total');
    expect(response.body).toContain('service="tiny"');
  });

  it('when two apps run in one process, then each has its own registry', async () => {
    ({ app } = await buildTinyApp());
    const other = await buildTinyApp();
    try {
      await other.app.inject({ method: 'GET', url: '/health' });
      expect(app.metrics).not.toBe(other.app.metrics);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).not.toContain('route="/health"');
    } finally {
      await other.app.close();
    }
  });
});

describe('kitPlugin documentation', () => {
  it('when /documentation is opened, then Swagger UI is served', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'GET', url: '/documentation' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
    expect(response.body).toContain('swagger-ui');
  });

  it('when the OpenAPI document is fetched, then it holds the zod route schemas', async () => {
    ({ app } = await buildTinyApp());
    const response = await app.inject({ method: 'GET', url: '/documentation/json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.info).toMatchObject({ title: 'tiny', description: 'A tiny test service', version: '1.2.3' });
    const body = document.paths['/dishes'].post.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({
      type: 'object',
      required: ['name', 'portions'],
      properties: { name: { type: 'string', minLength: 1 }, portions: { type: 'integer', minimum: 1 } },
    });
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/health', '/ready', '/metrics']));
  });
});
