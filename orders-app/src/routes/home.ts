import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export interface HomeRoutesOptions {
  /** The dashboard's built files (index.html and assets/). */
  dashboardDir: string;
}

// Shown when the dashboard has not been built, so `/` still says what this is and what to do.
const UNBUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Free Lunch — orders</title></head>
<body>
  <h1>Free Lunch — orders service</h1>
  <p>The manager's dashboard is not built: run <code>pnpm --filter @free-lunch/dashboard build</code>
  (<code>pnpm start</code> does it for you), or point <code>DASHBOARD_DIR</code> at its files.</p>
  <p>The live view is a WebSocket at <code>/ws</code>; see the <a href="/documentation">API documentation</a>.</p>
</body>
</html>
`;

/**
 * `/`: the manager's dashboard. Its file names carry a content hash, so they are cached for good;
 * index.html is revalidated on every visit so a new build is picked up at once.
 */
export const homeRoutes: FastifyPluginAsync<HomeRoutesOptions> = async (app, options) => {
  const dashboardDir = resolve(options.dashboardDir);
  if (!existsSync(join(dashboardDir, 'index.html'))) {
    app.log.warn({ dashboardDir }, 'the dashboard is not built; `/` shows how to build it');
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(UNBUILT_PAGE),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dashboardDir,
    prefix: '/',
    index: 'index.html',
    schemaHide: true,
    cacheControl: false,
    setHeaders: (reply, path) => {
      const hashed = path.startsWith(join(dashboardDir, 'assets') + sep);
      reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
};
