import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '@free-lunch/service-kit';
import { KitchenConfig } from '../src/config.js';

describe('kitchen config', () => {
  it('when COOK_TIME_MS is 0, then dishes are delivered as soon as their ingredients are in', () => {
    expect(parseConfig(KitchenConfig, { COOK_TIME_MS: '0' }).COOK_TIME_MS).toBe(0);
  });

  it('when COOK_TIME_MS is negative or not a whole number, then start-up fails naming it', () => {
    for (const value of ['-1', '1.5', 'soon']) {
      expect(() => parseConfig(KitchenConfig, { COOK_TIME_MS: value })).toThrow(ConfigError);
      expect(() => parseConfig(KitchenConfig, { COOK_TIME_MS: value })).toThrow(/COOK_TIME_MS/);
    }
  });
});
