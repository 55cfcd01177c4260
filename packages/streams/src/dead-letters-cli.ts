/**
 * `pnpm dead-letters`: lists the messages the consumers could not handle, re-drives chosen ones
 * (or all) back to their stream, and drops the ones that should go. The logic is in
 * dead-letter-admin.ts; this file reads the arguments and prints. See docs/operations.md.
 *
 *   REDIS_URL    default redis://127.0.0.1:6379 (as the services)
 *   KEY_PREFIX   default fl: (as the services)
 */
import { Redis } from 'ioredis';
import { dropDeadLetters, listDeadLetters, redriveDeadLetters } from './dead-letter-admin.js';
import { parseCommand, readEnvironment, USAGE, UsageError, type Command, type Environment } from './dead-letters-args.js';
import { formatListing, formatOutcomes, outcomesSucceeded } from './dead-letters-report.js';

/** Where Redis is, without the credentials a URL may carry. */
function redisAddress(url: string): string {
  const { protocol, host } = new URL(url);
  return `${protocol}//${host}`;
}

async function run(command: Exclude<Command, { name: 'help' }>, redis: Redis, prefix: string): Promise<number> {
  if (command.name === 'list') {
    const listings = await listDeadLetters(redis, prefix, { streams: command.streams, limit: command.limit });
    console.log(command.json ? JSON.stringify({ prefix, streams: listings }) : formatListing(listings, command.limit));
    return 0;
  }
  const outcomes =
    command.name === 'redrive'
      ? await redriveDeadLetters(redis, prefix, { ...command.selection, force: command.force })
      : await dropDeadLetters(redis, prefix, command.selection);
  const { stream, dryRun = false } = command.selection;
  console.log(
    command.json
      ? JSON.stringify({ prefix, stream, command: command.name, dryRun, outcomes })
      : formatOutcomes(command.name, stream, outcomes, dryRun),
  );
  return outcomesSucceeded(outcomes) ? 0 : 1;
}

async function main(): Promise<number> {
  let command: Command;
  let environment: Environment;
  try {
    command = parseCommand(process.argv.slice(2));
    environment = readEnvironment();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`pnpm dead-letters: ${error.message}\nRun pnpm dead-letters --help for usage.`);
    return 2;
  }
  if (command.name === 'help') {
    console.log(USAGE);
    return 0;
  }

  const address = redisAddress(environment.REDIS_URL);
  // One attempt, no reconnecting: a person is waiting, and a failure is reported, not retried.
  const redis = new Redis(environment.REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 5_000,
  });
  // Reported once below, where the command fails; the event says why (connect() only that it closed).
  let connectionError: Error | null = null;
  redis.on('error', (error: Error) => (connectionError ??= error));
  try {
    await redis.connect();
  } catch (error) {
    console.error(`cannot reach Redis at ${address}: ${(connectionError ?? (error as Error)).message}`);
    redis.disconnect();
    return 1;
  }
  try {
    return await run(command, redis, environment.KEY_PREFIX);
  } catch (error) {
    console.error(`dead letters at ${address} (prefix ${environment.KEY_PREFIX}): ${(error as Error).message}`);
    return 1;
  } finally {
    redis.disconnect();
  }
}

process.exitCode = await main();
