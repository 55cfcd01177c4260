import type { FastifyInstance } from 'fastify';
import type { BackgroundTask } from '@free-lunch/service-kit';
import type { PublishCommitted } from '@free-lunch/streams';
import type { InventoryConfig } from '../config.js';
import { MarketClient } from '../market/market-client.js';
import type { InventoryMetrics } from '../metrics.js';
import { Purchaser } from '../purchasing/purchaser.js';

/**
 * Buys the shortfalls at the farmers' market, on one replica at a time, and wakes the allocator when
 * what it bought or the requests it heard of may serve someone. On stop it finishes and records its
 * round (units the market sold must not go unrecorded), then closes the market's connections.
 */
export function purchaser(
  app: FastifyInstance,
  config: InventoryConfig,
  { metrics, allocateNow, publishNow }: { metrics: InventoryMetrics; allocateNow: () => void; publishNow: PublishCommitted },
): BackgroundTask {
  const market = new MarketClient({
    url: config.MARKET_URL,
    concurrency: config.MARKET_CONCURRENCY,
    timeoutMs: config.MARKET_TIMEOUT_MS,
    maxQuantity: config.MARKET_MAX_QUANTITY,
  });
  const buyer = new Purchaser({
    pool: app.pg,
    connectionString: config.DATABASE_URL,
    market,
    metrics,
    concurrency: config.MARKET_CONCURRENCY,
    backoff: { baseMs: config.MARKET_RETRY_BASE_MS, maxMs: config.MARKET_RETRY_MAX_MS },
    logger: app.log.child({ component: 'purchaser' }),
    onBought: allocateNow,
    onNewRequests: allocateNow,
    publishNow,
  });
  return {
    start: () => buyer.start(),
    stop: async () => {
      await buyer.stop();
      await market.close();
    },
  };
}
