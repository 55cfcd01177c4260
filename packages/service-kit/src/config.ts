import { hostname } from 'node:os';
import { z } from 'zod';

const commaSeparated = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);

/** `https://host[:port]` with nothing after it: what a browser sends as `Origin`. */
const originList = commaSeparated.pipe(
  z.array(
    z.string().refine((value) => URL.canParse(value) && new URL(value).origin === value, {
      message: 'each entry must be an origin such as https://manager.example.com (scheme, host, optional port; no path or trailing slash)',
    }),
  ),
);

const trustProxy = z
  .string()
  .transform((value, context): number | string[] | false => {
    const trimmed = value.trim();
    if (trimmed === 'false') return false;
    if (/^\d+$/.test(trimmed)) return Number(trimmed);
    if (trimmed === 'true') {
      context.addIssue({ code: 'custom', message: 'true would believe any X-Forwarded-For; give the number of proxies (e.g. 1) or their addresses' });
      return z.NEVER;
    }
    return trimmed.split(',').map((item) => item.trim()).filter((item) => item !== '');
  });

/**
 * The settings every Free Lunch service reads from its environment. A service extends it with its
 * own keys, and must give `PORT` its default port: `BaseConfig.extend({ PORT: port(3001), ... })`.
 */
export const BaseConfig = z.object({
  /** `production` makes missing secrets fatal at start-up instead of falling back to local defaults. */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `pretty` for a person at a terminal; `json` (one object a line) for log collectors. */
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/free_lunch'),
  /**
   * The service's schema owner, for its migrations at start-up; DATABASE_URL is then a role that
   * may only read and write the tables (see `pnpm db:provision`). Unset: migrations run as DATABASE_URL.
   */
  MIGRATION_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  KEY_PREFIX: z.string().default('fl:'),
  DB_POOL_SIZE: z.coerce.number().int().min(1).default(10),
  /**
   * Connections of the pool the public reads use (`app.pgReads`), apart from the stream consumers'
   * pool: however hard the API is read, the pipeline keeps its connections.
   */
  READ_POOL_SIZE: z.coerce.number().int().min(1).default(2),
  /** A public read still running after this is cancelled and answered 503. */
  READ_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1).default(5_000),
  /**
   * A message pending this long on a consumer-group member that is still alive (slow, or failing
   * it) is reclaimed by another. A dead member's messages are reclaimed once its liveness key
   * lapses (MEMBER_TTL_MS), without waiting for this.
   */
  CLAIM_IDLE_MS: z.coerce.number().int().min(1).default(30_000),
  /**
   * Each consumer-group member keeps a Redis key with this TTL, renewed every third of it while it
   * runs and deleted when it stops; once it lapses (the process was killed) the others take over its
   * pending messages. The time to recover from a killed consumer is about this.
   */
  MEMBER_TTL_MS: z.coerce.number().int().min(300).default(5_000),
  MAX_DELIVERIES: z.coerce.number().int().min(1).default(5),
  /**
   * After a partial batch a stream consumer waits this long before reading again, so a steady
   * trickle of messages is handled in fewer, larger transactions (see StreamConsumer's lingerMs).
   */
  CONSUMER_LINGER_MS: z.coerce.number().int().min(0).default(10),
  /**
   * Entries of the streams a service's groups read are kept this long after every group has
   * acknowledged them, then trimmed (see StreamJanitor); unfinished entries stay however old.
   * Redis holds about (entries a second × this) of each; default an hour.
   */
  STREAM_RETENTION_MS: z.coerce.number().int().min(0).default(3_600_000),
  SERVICE_INSTANCE: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /**
   * Browser origins other than the service's own that may read it (CORS) and open the live view
   * WebSocket, comma-separated (`https://manager.example.com`). Empty: none.
   */
  CORS_ORIGINS: originList.default([]),
  /**
   * The proxies in front of the service whose `X-Forwarded-For` is believed: how many hops (`1`
   * behind one load balancer) or their addresses/CIDRs, comma-separated. Unset: none, so the
   * address of the connection is the client's. `true` is refused: any client could then choose the
   * address its rate limits are counted against.
   */
  TRUST_PROXY: trustProxy.default(false),
  /** Public reads (GET) one client address may make per minute, counted across replicas in Redis. */
  RATE_LIMIT_READS_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  /** Largest request body accepted, in bytes; the API's bodies are a few dozen bytes. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(16 * 1024),
  /** A request (headers and body) must have arrived within this; ends slow-loris connections. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** An idle keep-alive connection is closed after this; above the AWS load balancer's 60 s idle timeout. */
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1000).default(72_000),
});
export type BaseConfig = z.infer<typeof BaseConfig>;

/** A `PORT` entry with the service's own default, for `BaseConfig.extend`. */
export function port(defaultPort: number) {
  return BaseConfig.shape.PORT.default(defaultPort);
}

/** One environment variable that is missing or malformed, and why. */
export interface ConfigIssue {
  key: string;
  reason: string;
}

/** Thrown at start-up when the environment does not fit the service's config schema. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly issues: ConfigIssue[]) {
    super(
      `Invalid configuration (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}):\n` +
        issues.map(({ key, reason }) => `  ${key}: ${reason}`).join('\n'),
    );
  }
}

/**
 * Parses the environment once, at start-up. Every problem is reported together, so a deployment
 * is fixed in one round; values are never echoed because they may hold credentials.
 *
 * A variable set to an empty string counts as unset (compose files often pass `FOO=${FOO:-}`).
 */
export function parseConfig<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const result = schema.safeParse(present);
  if (result.success) return result.data;

  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.') || '(environment)';
      // A missing key surfaces as a type error on `undefined` (or NaN once coerced): say so plainly.
      const missing = issue.code === 'invalid_type' && issue.path.length > 0 && !(String(issue.path[0]) in present);
      return { key, reason: missing ? 'is required but not set' : issue.message };
    }),
  );
}
