import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';

/** How long in-flight work gets to finish after SIGINT/SIGTERM before the process exits anyway. */
const GRACE_PERIOD_MS = 10_000;

/**
 * Builds the app, listens on `host:port` and logs where; on SIGINT/SIGTERM (or an uncaught error)
 * closes the app, which stops its consumers and ends its connections, then exits.
 */
export async function runServer(
  build: () => Promise<FastifyInstance>,
  { host, port }: { host: string; port: number },
): Promise<FastifyInstance> {
  const app = await build();

  closeWithGrace({ delay: GRACE_PERIOD_MS, logger: app.log }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'closing after an uncaught error');
    else app.log.info({ signal }, 'closing');
    await app.close();
  });

  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (error) {
    // E.g. the port is taken: say so in the service's log, and release what build() opened.
    app.log.fatal({ err: error }, `could not listen on ${host}:${port}`);
    await app.close();
    throw error;
  }
  app.log.info({ address, documentation: `${address}/documentation` }, 'listening');
  return app;
}
