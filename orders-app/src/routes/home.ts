import type { FastifyPluginAsync } from 'fastify';

// The manager's dashboard replaces this page in a later issue.
const HOME_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Free Lunch — orders</title></head>
<body>
  <h1>Free Lunch — orders service</h1>
  <p>Takes the manager's free-lunch orders, follows them through the kitchen and streams the
  restaurant live over a WebSocket at <code>/ws</code>.</p>
  <p>See the <a href="/documentation">API documentation</a>.</p>
</body>
</html>
`;

/** `/`: what this service is, and where its documentation lives. */
export const homeRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(HOME_PAGE),
  );
};
