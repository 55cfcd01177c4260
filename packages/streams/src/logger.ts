import type { LogFn } from 'pino';

/**
 * The logging this package needs: pino's methods and `child`. Both a pino `Logger` and Fastify's
 * `app.log` satisfy it, so a service hands over its own logger without a cast.
 */
export interface StreamsLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): StreamsLogger;
}
