/**
 * The backlog reporter: runs next to kitchen-app and inventory-app in their ECS tasks (same image,
 * copied to /app/ops) and prints the service's stream backlog every BACKLOG_INTERVAL_MS as a
 * CloudWatch embedded metric (see backlog-contract.ts), which their autoscaling follows, and the
 * dead letters of those streams (FreeLunch/DeadLetters), which an alarm watches. It needs
 * no AWS permission: the awslogs driver ships the line and CloudWatch Logs extracts the metric.
 *
 * Environment: REDIS_URL, KEY_PREFIX (as the service), BACKLOG_SERVICE (the metric's Service
 * dimension), BACKLOG_STREAMS (`<stream>:<group>,…`), BACKLOG_INTERVAL_MS (15000).
 */
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { streamNames } from '@free-lunch/contracts';
import { parseConfig } from '@free-lunch/service-kit';
import { deadLetterCounts, streamBacklog } from '@free-lunch/streams';
import { backlogRecord, deadLetterRecord, parseGroupStreams } from './backlog-metric.js';

const ReporterConfig = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  KEY_PREFIX: z.string().default('fl:'),
  BACKLOG_SERVICE: z.string().min(1),
  BACKLOG_STREAMS: z.string().transform((value, context) => {
    try {
      return parseGroupStreams(value, Object.values(streamNames));
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  BACKLOG_INTERVAL_MS: z.coerce.number().int().min(1000).default(15_000),
});

const config = parseConfig(ReporterConfig);
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
// One line per failure, in the same JSON shape as the services' logs; ioredis keeps reconnecting.
const logError = (msg: string, error: unknown) =>
  process.stderr.write(`${JSON.stringify({ level: 50, time: Date.now(), msg, err: String(error) })}\n`);
redis.on('error', (error) => logError('redis connection error', error));

async function report(): Promise<void> {
  try {
    const backlog = await streamBacklog(redis, config.KEY_PREFIX, config.BACKLOG_STREAMS);
    process.stdout.write(`${JSON.stringify(backlogRecord(config.BACKLOG_SERVICE, backlog, new Date()))}\n`);
    const streams = config.BACKLOG_STREAMS.map(({ stream }) => stream);
    const deadLetters = await deadLetterCounts(redis, config.KEY_PREFIX, streams);
    process.stdout.write(`${JSON.stringify(deadLetterRecord(config.BACKLOG_SERVICE, deadLetters, new Date()))}\n`);
  } catch (error) {
    // No datapoint rather than a wrong one: the scaling alarms treat missing data as "no change".
    logError('could not measure the stream backlog', error);
  }
}

// Listening before the first report: a stop that comes right after it must end the process cleanly,
// not through the signal's default action.
const stopRequested = Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
await report();
const timer = setInterval(() => void report(), config.BACKLOG_INTERVAL_MS);
await stopRequested;
clearInterval(timer);
redis.disconnect();
