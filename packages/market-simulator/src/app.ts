import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { LevelWithSilent } from 'pino';
import { registerErrorReplies } from './error-replies.js';
import { FarmersMarket } from './farmers-market.js';
import type { MarketOptionsPatch } from './options.js';
import { registerBuyRoute } from './routes/buy.js';
import { registerConfigRoutes } from './routes/config.js';
import { registerHealthRoute } from './routes/health.js';
import { registerStatsRoutes } from './routes/stats.js';
import { WaitingCalls } from './waiting-calls.js';

/** Market options (any subset; the rest take their defaults) plus how the simulator logs. */
export interface MarketSimulatorOptions extends MarketOptionsPatch {
  /** pino level; default `info`. */
  logLevel?: LevelWithSilent;
  /** Log every request. Off by default: at benchmark rates the logging would cost more than the market. */
  logRequests?: boolean;
}

/**
 * Builds the simulated farmers' market: `GET /api/farmers-market/buy`, `GET /stats`,
 * `POST /reset-stats`, `GET|PUT /config` and `GET /health`. Not listening yet.
 * @throws InvalidMarketOptionsError when an option is out of range
 */
export function createMarketSimulator(options: MarketSimulatorOptions = {}): FastifyInstance {
  const { logLevel = 'info', logRequests = false, ...marketOptions } = options;
  const market = new FarmersMarket(marketOptions);
  const waiting = new WaitingCalls();

  const app = Fastify({
    logger: { level: logLevel, name: 'market-simulator' },
    logController: new LogController({ disableRequestLogging: !logRequests }),
    // Closing drops every connection: a client's spare keep-alive socket (undici opens one after
    // an aborted call) would otherwise hold close() until the client lets go of it.
    forceCloseConnections: true,
  });

  registerErrorReplies(app);
  registerBuyRoute(app, market, waiting);
  registerStatsRoutes(app, market);
  registerConfigRoutes(app, market);
  registerHealthRoute(app);

  // Before the server closes: a 30 s hang must not hold up the shutdown, nor a timer answer into a closed server.
  app.addHook('preClose', async () => {
    if (waiting.size > 0) app.log.info({ calls: waiting.size }, 'cutting off waiting market calls');
    waiting.cutOffAll();
  });

  return app;
}
