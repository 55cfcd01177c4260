/**
 * `pnpm chaos`: proves that Free Lunch recovers. Starts an isolated stack (its own database, Redis
 * prefix and users, market simulator; orders, two kitchens and two warehouses as processes), places
 * orders while it injects faults on a seeded schedule it prints, waits for the last orders and prints
 * a verdict: every order delivered once, the audit balanced, only the injected poison dead-lettered,
 * and how fast the system caught up after each fault. Takes everything down afterwards.
 *
 *   pnpm chaos                          the default run: 150 s of faults, about 3–4 minutes in all
 *   pnpm chaos --duration 60            a shorter one
 *   pnpm chaos --seed 42                replay a schedule
 *   pnpm chaos --faults kill,redis-wipe only these faults
 *   pnpm chaos --json                   one JSON object as the last line of stdout
 */
import { randomInt } from 'node:crypto';
import { Command, InvalidArgumentError } from 'commander';
import { PostgresSetupError } from './faults/postgres.js';
import { formatVerdict } from './report.js';
import { ChaosFailure, runChaos, type ChaosSettings } from './run-chaos.js';
import { defaultHolds, faultKinds, planSchedule, ScheduleError, type FaultKind } from './schedule.js';

const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) => (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `must be a whole number ≥ ${min}` : `must be a whole number from ${min} to ${max}`);
  }
  return number;
};
const positiveNumber = (value: string) => {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('must be a positive number');
  return number;
};
const keyValue = (value: string, previous: Record<string, string>) => {
  const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(value);
  if (!match) throw new InvalidArgumentError('must look like NAME=value');
  return { ...previous, [match[1]!]: match[2]! };
};
const kindList = (value: string) => {
  const kinds = value.split(',').map((kind) => kind.trim()).filter(Boolean);
  const unknown = kinds.filter((kind) => !(faultKinds as readonly string[]).includes(kind));
  if (unknown.length > 0 || kinds.length === 0) {
    throw new InvalidArgumentError(`must be a comma-separated list of: ${faultKinds.join(', ')}${unknown.length > 0 ? ` (not ${unknown.join(', ')})` : ''}`);
  }
  return kinds as FaultKind[];
};

const program = new Command('pnpm chaos')
  .description('Free Lunch under faults, on an isolated stack of its own: does every order arrive exactly once, and how fast?')
  .option('--duration <seconds>', 'seconds of load and faults (the last fault ends then)', wholeNumber(10), 150)
  .option('--rate <orders-per-second>', 'orders per second, placed as one POST /orders a second', wholeNumber(1, 1_000), 25)
  .option('--seed <n>', 'seed of the fault schedule (default: a random one, printed)', wholeNumber(0, 0xffff_ffff))
  .option('--faults <kinds>', `only these faults, comma-separated (default: all): ${faultKinds.join(', ')}`, kindList)
  .option('--kitchens <n>', 'kitchen-app processes', wholeNumber(1, 8), 2)
  .option('--inventories <n>', 'inventory-app processes', wholeNumber(1, 8), 2)
  .option('--pg-outage <seconds>', 'length of the PostgreSQL outage (default: a tenth of --duration, 5–20 s)', wholeNumber(1, 600))
  .option('--market-fault <seconds>', 'length of each market fault (default: a twentieth of --duration, 3–8 s)', wholeNumber(1, 600))
  .option('--restart-after <seconds>', 'a killed process is started again after this long', wholeNumber(0, 600), 2)
  .option('--wait <seconds>', 'after the faults, wait at most this long for the last orders', wholeNumber(1), 120)
  .option('--recovery-limit <seconds>', 'fail when the last order arrives later than this after the last fault', positiveNumber, 15)
  .option('--market-latency-ms <ms>', 'every market answer takes this long', wholeNumber(0, 1_500), 20)
  .option('--timeout <seconds>', 'fail the run if it has not finished by then (default: duration + wait + 180)', positiveNumber)
  .option('--stop-postgres', 'make the outage by stopping the local PostgreSQL server (pg_ctlcluster): every database on it goes away', false)
  .option('--flush-redis', 'wipe Redis with FLUSHALL (only for a Redis that serves nothing else) instead of deleting the run\'s keys', false)
  .option('--no-redis-users', 'let the services use REDIS_URL\'s user through a proxy, not Redis users of the run\'s own (least privilege, as pnpm start does)')
  .option('--env <NAME=value>', 'extra environment for the services (repeatable), e.g. CLAIM_IDLE_MS=5000', keyValue, {})
  .option('--json', 'print the result as one JSON object, the last line of stdout', false)
  .addHelpText(
    'after',
    '\nEnvironment: DATABASE_URL (an admin of a PostgreSQL server; the run creates and drops a database of its own on it)\n' +
      'and REDIS_URL (the run uses a key prefix and Redis users of its own and deletes them afterwards).\n' +
      'Without --stop-postgres the outage is made by a proxy the services reach PostgreSQL through, and other\n' +
      'users of the server are not disturbed; without --flush-redis only the run\'s own keys are wiped.',
  );

interface CliOptions {
  duration: number;
  rate: number;
  seed?: number;
  faults?: FaultKind[];
  kitchens: number;
  inventories: number;
  pgOutage?: number;
  marketFault?: number;
  restartAfter: number;
  wait: number;
  recoveryLimit: number;
  marketLatencyMs: number;
  timeout?: number;
  stopPostgres: boolean;
  flushRedis: boolean;
  redisUsers: boolean;
  env: Record<string, string>;
  json: boolean;
}

async function main(): Promise<number> {
  program.parse(process.argv.slice(2), { from: 'user' });
  const options = program.opts<CliOptions>();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const fail = (message: string, code = 1) => {
    log(`\nchaos run failed: ${message}`);
    if (options.json) process.stdout.write(`${JSON.stringify({ ok: false, error: message })}\n`);
    return code;
  };

  const holds = defaultHolds(options.duration);
  const seed = options.seed ?? randomInt(0, 0xffff_ffff);
  const settings: ChaosSettings = {
    seed,
    durationS: options.duration,
    rate: options.rate,
    kitchens: options.kitchens,
    inventories: options.inventories,
    waitS: options.wait,
    timeoutS: options.timeout ?? options.duration + options.wait + 180,
    recoveryLimitS: options.recoveryLimit,
    marketLatencyMs: options.marketLatencyMs,
    stopPostgres: options.stopPostgres,
    flushRedis: options.flushRedis,
    redisUsers: options.redisUsers,
    serviceEnv: options.env,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
  let schedule;
  try {
    schedule = planSchedule({
      seed,
      durationS: options.duration,
      kinds: options.faults ?? faultKinds,
      replicas: { orders: 1, kitchen: options.kitchens, inventory: options.inventories },
      postgresOutageS: options.pgOutage ?? holds.postgresOutageS,
      marketFaultS: options.marketFault ?? holds.marketFaultS,
      restartAfterS: options.restartAfter,
    });
  } catch (error) {
    if (error instanceof ScheduleError) return fail(error.message);
    throw error;
  }

  const interrupt = new AbortController();
  let stackToKill: { killAll(): void; closing(): void } | null = null;
  const onSignal = () => {
    if (!interrupt.signal.aborted) {
      log('\ninterrupted: undoing the faults and stopping the stack (Ctrl-C again to kill it at once)…');
      stackToKill?.closing();
      interrupt.abort();
    } else {
      stackToKill?.killAll();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const result = await runChaos(settings, schedule, { log, signal: interrupt.signal, onStack: (stack) => (stackToKill = stack) });
    const table = formatVerdict(result);
    if (options.json) {
      log(table);
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(`${table}\n`);
    }
    return result.ok ? 0 : 1;
  } catch (error) {
    const known = error instanceof ChaosFailure || error instanceof PostgresSetupError;
    return fail(known ? (error).message : ((error as Error).stack ?? String(error)), interrupt.signal.aborted ? 130 : 1);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
