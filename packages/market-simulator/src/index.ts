/**
 * A farmers' market with the real market's contract (`GET /api/farmers-market/buy?ingredient=`
 * → `{"quantitySold": N}`) and tunable latency, faults and quantities, for local runs, tests and
 * benchmarks.
 */
export { createMarketSimulator, type MarketSimulatorOptions } from './app.js';
export { startMarketSimulator, type RunningMarketSimulator, type StartMarketSimulatorOptions } from './start.js';
export { BUY_PATH } from './routes/buy.js';
export {
  ABSURD_QUANTITY_THRESHOLD,
  FaultKind,
  InvalidMarketOptionsError,
  MarketOptionsPatch,
  defaultMarketOptions,
  faultKinds,
  type MarketOptions,
} from './options.js';
export type { IngredientStats, MarketStats } from './stats.js';
export { parseMarketEnv, type MarketEnv } from './config.js';
export { seededRandom, type Random } from './random.js';
