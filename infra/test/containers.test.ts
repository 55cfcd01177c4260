import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployables, healthCheckScript } from '../lib/catalog.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(read('docker-compose.yaml'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

describe('the images and docker compose', () => {
  for (const { name, packageName, dockerfile, port, portVariable } of deployables) {
    it(`when ${name}'s image is built, then it holds only ${packageName}'s production dependencies and runs as a non-root user with a /health check on ${port}`, () => {
      const text = read(dockerfile);
      expect(text).toMatch(/^FROM \$\{NODE_BUILD_IMAGE\} AS build$/m);
      expect(text).toMatch(/^ARG NODE_RUNTIME_IMAGE=node:22-(alpine|slim)$/m);
      expect(text).toContain(`pnpm deploy --filter ${packageName} --prod /out`);
      expect(text).toContain('pnpm@12.4.2');
      const runtime = text.slice(text.lastIndexOf('\nFROM '));
      expect(runtime).toMatch(/^USER node$/m);
      expect(runtime).toMatch(/HOST=0\.0\.0\.0/);
      expect(runtime).toMatch(new RegExp(`${portVariable}=${port}`));
      expect(runtime).toContain(`EXPOSE ${port}`);
      // The same one-liner ECS runs as the container health check.
      expect(runtime).toContain(`HEALTHCHECK`);
      expect(runtime).toContain(JSON.stringify(healthCheckScript(portVariable)));
      expect(runtime).toContain('CMD ["node", "--import", "tsx", "src/server.ts"]');
    });
  }

  it('when the build context is sent, then node_modules, build output and secrets stay out of it', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const pattern of ['**/node_modules', '**/dist', '**/cdk.out', '**/.env', '.git']) expect(ignored).toContain(pattern);
  });

  it('when the system runs with docker compose, then each service is built from its Dockerfile and starts once what it needs is healthy', () => {
    const built = Object.entries(compose.services).filter(([, service]) => service.build);
    expect([...new Set(built.map(([, service]) => service.build!.dockerfile))].sort()).toEqual(
      deployables.map(({ dockerfile }) => dockerfile).sort(),
    );
    // db-setup runs once and exits: what needs it waits for it to have succeeded.
    const oneOff = new Set(['db-setup']);
    for (const [name, service] of Object.entries(compose.services)) {
      if (!oneOff.has(name)) expect(service.healthcheck?.test, name).toBeDefined();
      if (service.build) expect(service.build.context).toBe('.');
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(condition, `${name} → ${dependency}`).toBe(oneOff.has(dependency) ? 'service_completed_successfully' : 'service_healthy');
      }
    }
    expect(Object.keys(compose.services['db-setup']!.depends_on!)).toEqual(['postgres']);
    for (const name of ['orders-app', 'kitchen-app', 'inventory-app']) {
      expect(Object.keys(compose.services[name]!.depends_on!)).toEqual(expect.arrayContaining(['redis', 'db-setup']));
      // As in production: the service's own role, and its schema's owner for migrations.
      const schema = name.replace('-app', '');
      expect(compose.services[name]!.environment!.DATABASE_URL).toMatch(new RegExp(`^postgres://fl_${schema}_app:`));
      expect(compose.services[name]!.environment!.MIGRATION_DATABASE_URL).toMatch(new RegExp(`^postgres://fl_${schema}_owner:`));
    }
    expect(Object.keys(compose.services['inventory-app']!.depends_on!)).toContain('market');
  });

  it('when the system runs with docker compose, then Redis keeps an append-only file and both stores keep their data in volumes', () => {
    expect(compose.services.redis!.image).toMatch(/^redis:7-alpine$/);
    expect(compose.services.redis!.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(compose.services.postgres!.image).toMatch(/^postgres:15-alpine$/);
    expect(compose.services.redis!.volumes).toEqual(['redis-data:/data']);
    expect(compose.services.postgres!.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(Object.keys(compose.volumes).sort()).toEqual(['postgres-data', 'redis-data']);
  });

  it('when the system runs with docker compose, then the dashboard is on localhost:3000 and the manager token and market come from the environment', () => {
    const orders = compose.services['orders-app']!;
    expect(orders.ports).toContain('127.0.0.1:3000:3000');
    expect(orders.environment!.MANAGER_TOKENS).toMatch(/^\$\{MANAGER_TOKENS:-.{32,}\}$/);
    expect(compose.services['inventory-app']!.environment!.MARKET_URL).toBe(
      '${MARKET_URL:-http://market:3100/api/farmers-market/buy}',
    );
  });
});
