import type { FastifyInstance } from 'fastify';
import { ingredients, type Ingredient } from '@free-lunch/contracts';
import { sendAnswer } from '../answers.js';
import type { FarmersMarket } from '../farmers-market.js';
import type { WaitingCalls } from '../waiting-calls.js';

/** The real market's path, so the warehouse's MARKET_URL can point here unchanged. */
export const BUY_PATH = '/api/farmers-market/buy';

const sold: ReadonlySet<string> = new Set(ingredients);
const ingredientList = ingredients.join(', ');

/**
 * `GET /api/farmers-market/buy?ingredient=<name>` → `{"quantitySold": N}`. Validated by hand
 * rather than by a schema: this is the hot path of every benchmark.
 */
export function registerBuyRoute(app: FastifyInstance, market: FarmersMarket, waiting: WaitingCalls): void {
  app.get(BUY_PATH, (request, reply) => {
    const { ingredient } = request.query as { ingredient?: unknown };
    if (typeof ingredient !== 'string' || !sold.has(ingredient)) {
      market.stats.recordRejected();
      reply.code(400).send(rejection(ingredient));
      return;
    }
    const { answer, delayMs } = market.serve(ingredient as Ingredient);
    if (delayMs === 0) {
      sendAnswer(reply, answer);
    } else {
      waiting.wait(reply, delayMs, (waited) => sendAnswer(waited, answer));
    }
  });
}

function rejection(ingredient: unknown): { error: string; message: string } {
  if (ingredient === undefined || ingredient === '') {
    return {
      error: 'missing_ingredient',
      message: `Say which ingredient to buy: ?ingredient=<name>, one of ${ingredientList}.`,
    };
  }
  return {
    error: 'unknown_ingredient',
    message: `${JSON.stringify(ingredient)} is not sold here; ask for one of ${ingredientList}.`,
  };
}
