import { z } from 'zod';
import { describeIssues, MarketOptionsPatch } from './options.js';

const option = MarketOptionsPatch.shape;

// An empty variable (`MARKET_SEED=`) means "not set", as it does in most shells' env files.
const blankAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
// Number('abc') is NaN, which the option's own schema rejects with "must be a number".
const asNumber = (value: unknown) => (typeof value === 'string' ? Number(value) : value);
const asList = (value: unknown) =>
  typeof value === 'string' ? value.split(',').map((entry) => entry.trim()).filter(Boolean) : value;

/** Reuses the option's own rule, so env and `PUT /config` accept exactly the same values. */
const numberFromEnv = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => asNumber(blankAsUnset(value)), schema);

const MarketEnvSchema = z.object({
  MARKET_HOST: z.preprocess(blankAsUnset, z.string().default('127.0.0.1')),
  MARKET_PORT: numberFromEnv(
    z.number({ error: 'must be a number' }).int('must be a whole number').min(0).max(65_535).default(3100),
  ),
  MARKET_LATENCY_MS: numberFromEnv(option.latencyMs),
  MARKET_LATENCY_JITTER_MS: numberFromEnv(option.latencyJitterMs),
  MARKET_FAILURE_RATE: numberFromEnv(option.failureRate),
  MARKET_FAULT_KINDS: z.preprocess((value) => asList(blankAsUnset(value)), option.faultKinds),
  MARKET_HANG_MS: numberFromEnv(option.hangMs),
  MARKET_ZERO_RATE: numberFromEnv(option.zeroRate),
  MARKET_MAX_QUANTITY: numberFromEnv(option.maxQuantity),
  MARKET_SEED: numberFromEnv(option.seed),
  LOG_LEVEL: z.preprocess(
    blankAsUnset,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
});

/** The simulator's settings as read from the environment. */
export interface MarketEnv {
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Only the options the environment sets; the rest keep the simulator's defaults. */
  options: MarketOptionsPatch;
}

/** Thrown at start-up when the environment is wrong; the message names every bad variable. */
export class MarketConfigError extends Error {
  override name = 'MarketConfigError';
}

/**
 * Reads the simulator's environment once: MARKET_HOST (127.0.0.1), MARKET_PORT (3100),
 * MARKET_LATENCY_MS, MARKET_LATENCY_JITTER_MS, MARKET_FAILURE_RATE, MARKET_FAULT_KINDS (comma list),
 * MARKET_HANG_MS, MARKET_ZERO_RATE, MARKET_MAX_QUANTITY, MARKET_SEED, LOG_LEVEL (info).
 * @throws MarketConfigError
 */
export function parseMarketEnv(env: NodeJS.ProcessEnv = process.env): MarketEnv {
  const parsed = MarketEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new MarketConfigError(`Invalid market simulator environment: ${describeIssues(parsed.error)}`);
  }
  const { MARKET_HOST, MARKET_PORT, LOG_LEVEL, ...settings } = parsed.data;
  const options: MarketOptionsPatch = {
    latencyMs: settings.MARKET_LATENCY_MS,
    latencyJitterMs: settings.MARKET_LATENCY_JITTER_MS,
    failureRate: settings.MARKET_FAILURE_RATE,
    faultKinds: settings.MARKET_FAULT_KINDS,
    hangMs: settings.MARKET_HANG_MS,
    zeroRate: settings.MARKET_ZERO_RATE,
    maxQuantity: settings.MARKET_MAX_QUANTITY,
    seed: settings.MARKET_SEED,
  };
  return {
    host: MARKET_HOST,
    port: MARKET_PORT,
    logLevel: LOG_LEVEL,
    options: Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
  };
}
