import { describe, expect, it } from 'vitest';
import { parseMarketEnv } from '../src/index.js';

describe('reading the environment', () => {
  it('when nothing is set, then the market is reachable from this machine only and overrides none of its options', () => {
    const { host, options } = parseMarketEnv({});
    expect(host).toBe('127.0.0.1');
    expect(options).toEqual({});
  });

  it('when every variable is set, then each becomes its option', () => {
    const config = parseMarketEnv({
      MARKET_HOST: '0.0.0.0',
      MARKET_PORT: '4100',
      MARKET_LATENCY_MS: '25',
      MARKET_LATENCY_JITTER_MS: '10',
      MARKET_FAILURE_RATE: '0.1',
      MARKET_FAULT_KINDS: 'http500, timeout,absurd',
      MARKET_HANG_MS: '5000',
      MARKET_ZERO_RATE: '0.5',
      MARKET_MAX_QUANTITY: '8',
      MARKET_SEED: '1234',
      LOG_LEVEL: 'warn',
    });

    expect(config).toEqual({
      host: '0.0.0.0',
      port: 4100,
      logLevel: 'warn',
      options: {
        latencyMs: 25,
        latencyJitterMs: 10,
        failureRate: 0.1,
        faultKinds: ['http500', 'timeout', 'absurd'],
        hangMs: 5000,
        zeroRate: 0.5,
        maxQuantity: 8,
        seed: 1234,
      },
    });
  });

  it('when a variable is empty, then it counts as unset', () => {
    expect(parseMarketEnv({ MARKET_SEED: '', MARKET_PORT: ' ', MARKET_FAULT_KINDS: '' })).toEqual(parseMarketEnv({}));
  });

  it('when variables are wrong, then reading fails naming every bad one', () => {
    const read = () =>
      parseMarketEnv({
        MARKET_PORT: 'eighty',
        MARKET_FAILURE_RATE: '1.5',
        MARKET_FAULT_KINDS: 'http500,meteor',
        MARKET_MAX_QUANTITY: '0',
        LOG_LEVEL: 'loud',
      });

    expect(read).toThrow(/MARKET_PORT/);
    expect(read).toThrow(/MARKET_FAILURE_RATE/);
    expect(read).toThrow(/MARKET_FAULT_KINDS/);
    expect(read).toThrow(/MARKET_MAX_QUANTITY/);
    expect(read).toThrow(/LOG_LEVEL/);
  });
});
