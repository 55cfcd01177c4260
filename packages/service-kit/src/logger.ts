import { hostname } from 'node:os';
import type { LoggerOptions } from 'pino';

/**
 * Pino options shared by every service: the configured level, which service and process wrote each
 * line (replicas share log streams), and the manager's bearer token kept out of the logs should a
 * request's headers ever be logged.
 */
export function loggerOptions(config: { LOG_LEVEL: string }, service: string): LoggerOptions {
  return {
    level: config.LOG_LEVEL,
    base: { service, pid: process.pid, hostname: hostname() },
    redact: { paths: ['req.headers.authorization'], censor: '[redacted]' },
  };
}
