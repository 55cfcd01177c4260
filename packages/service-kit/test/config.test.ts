import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BaseConfig, ConfigError, parseConfig, port } from '../src/index.js';

const ServiceConfig = BaseConfig.extend({ PORT: port(3001), COOK_TIME_MS: z.coerce.number().int().min(0).default(2000) });

describe('parseConfig', () => {
  it('when nothing is set, then it parses (a service needs no environment to start locally) and names the instance after its process', () => {
    const config = parseConfig(ServiceConfig, {});
    expect(config.SERVICE_INSTANCE).toContain(String(process.pid));
  });

  it('when variables are set, then they are parsed into typed values', () => {
    const config = parseConfig(ServiceConfig, { PORT: '4000', COOK_TIME_MS: '0', KEY_PREFIX: 'bench:', LOG_LEVEL: 'debug' });
    expect(config).toMatchObject({ PORT: 4000, COOK_TIME_MS: 0, KEY_PREFIX: 'bench:', LOG_LEVEL: 'debug' });
  });

  it('when a variable is set to an empty string, then its default applies', () => {
    expect(parseConfig(ServiceConfig, { DB_POOL_SIZE: '', HOST: ' ' })).toMatchObject({ DB_POOL_SIZE: 10, HOST: '127.0.0.1' });
  });

  it('when several variables are wrong, then one ConfigError names every bad key and why', () => {
    const env = { PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://db/x', DB_POOL_SIZE: '0', MAX_DELIVERIES: '2.5' };
    let error: unknown;
    try {
      parseConfig(ServiceConfig, env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { issues, message } = error as ConfigError;
    expect(issues.map((issue) => issue.key).sort()).toEqual(['DATABASE_URL', 'DB_POOL_SIZE', 'LOG_LEVEL', 'MAX_DELIVERIES', 'PORT']);
    for (const key of Object.keys(env)) expect(message).toContain(key);
    expect(message).toMatch(/PORT: .*expected number/);
    expect(message).toMatch(/LOG_LEVEL: .*expected one of/);
  });

  it('when a required variable is missing, then the error says it is not set', () => {
    expect(() => parseConfig(BaseConfig, {})).toThrow(/PORT: is required but not set/);
  });

  it('when a rule across keys fails on a defaulted key, then the error gives the rule, not "not set"', () => {
    const Ranged = BaseConfig.extend({
      PORT: port(3002),
      RETRY_BASE_MS: z.coerce.number().default(50),
      RETRY_MAX_MS: z.coerce.number().default(2000),
    }).refine((config) => config.RETRY_BASE_MS <= config.RETRY_MAX_MS, {
      path: ['RETRY_MAX_MS'],
      message: 'must be at least RETRY_BASE_MS',
    });
    expect(() => parseConfig(Ranged, { RETRY_BASE_MS: '5000' })).toThrow(/RETRY_MAX_MS: must be at least RETRY_BASE_MS/);
  });

  it('when a value is wrong, then the error does not echo it (it may be a secret)', () => {
    expect(() => parseConfig(ServiceConfig, { REDIS_URL: 'http://user:s3cret@host' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cret') }),
    );
  });
});
