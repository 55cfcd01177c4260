import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { LoggerOptions } from 'pino';

/**
 * Pino options shared by every service: the configured level, which service and process wrote each
 * line (replicas share log streams), and the manager's bearer token kept out of the logs should a
 * request's headers ever be logged. `LOG_FORMAT=pretty` is for people at a terminal (`pnpm start`
 * sets it there); everywhere else one JSON object a line is what log collectors want.
 */
export function loggerOptions(
  config: { LOG_LEVEL: string; LOG_FORMAT?: 'json' | 'pretty' },
  service: string,
): LoggerOptions {
  const options: LoggerOptions = {
    level: config.LOG_LEVEL,
    base: { service, pid: process.pid, hostname: hostname() },
    redact: { paths: ['req.headers.authorization'], censor: '[redacted]' },
  };
  if (config.LOG_FORMAT === 'pretty') {
    options.base = { service };
    options.transport = {
      // Resolved here: pino's worker thread would look for it from fastify's folder, where pnpm has none.
      target: createRequire(import.meta.url).resolve('pino-pretty'),
      options: { translateTime: 'HH:MM:ss.l', ignore: 'service,pid,hostname', singleLine: true },
    };
  }
  return options;
}
