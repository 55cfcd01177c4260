/**
 * `pnpm bench`: the throughput and latency benchmark. Starts an isolated stack (its own database,
 * Redis prefix, market simulator and service processes), places orders over the public API,
 * follows them to delivered, checks the audit, takes everything down and prints what it measured.
 *
 *   pnpm bench --orders 10000                  a burst: every order at once
 *   pnpm bench --rate 500 --duration 20        a steady offer, open loop
 *   pnpm bench --market-latency-ms 50          a realistic market (MARKET_CONCURRENCY in force)
 *   pnpm bench --kitchens 2 --inventories 2    several processes of each
 *   pnpm bench --rate 250 --idle 60            then a minute without orders: the idle stack's CPU
 *   pnpm bench --json                          one JSON object as the last line of stdout
 *   pnpm bench:check                           the baseline's run, failing on a regression
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { compareWithBaseline, readBaseline, writeBaseline } from './baseline.js';
import type { LoadPlan } from './load-plan.js';
import { formatSummary } from './report.js';
import { BenchFailure, medianRunOf, runBench, type BenchHooks, type BenchResult, type BenchSettings } from './run-bench.js';

const DEFAULT_BASELINE = fileURLToPath(new URL('../baseline.json', import.meta.url));
/** Where `pnpm bench` was run from (pnpm runs scripts from the workspace root). */
const callerDirectory = process.env.INIT_CWD ?? process.cwd();

const wholeNumber = (min: number) => (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new InvalidArgumentError(`must be a whole number ≥ ${min}`);
  return number;
};
const positiveNumber = (value: string) => {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('must be a positive number');
  return number;
};
const nonNegative = (value: string) => {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new InvalidArgumentError('must be a number ≥ 0');
  return number;
};
const fraction = (value: string) => {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || number >= 1) throw new InvalidArgumentError('must be between 0 and 1');
  return number;
};
const keyValue = (value: string, previous: Record<string, string>) => {
  const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(value);
  if (!match) throw new InvalidArgumentError('must look like NAME=value');
  return { ...previous, [match[1]!]: match[2]! };
};

const dbSetting = (value: string, previous: Record<string, string>) => {
  const match = /^([a-z_.]+)=(.*)$/.exec(value);
  if (!match) throw new InvalidArgumentError('must look like name=value');
  return { ...previous, [match[1]!]: match[2]! };
};

const program = new Command('pnpm bench')
  .description('Free Lunch throughput and latency benchmark on an isolated stack of its own.')
  .option('--orders <n>', 'burst: place this many orders at once', wholeNumber(1), 10_000)
  .option('--rate <orders-per-second>', 'steady: offer this many orders per second (open loop)', positiveNumber)
  .option('--duration <seconds>', 'steady: for this long', positiveNumber, 20)
  .option('--interval-ms <ms>', 'steady: one request every this many ms, carrying the orders due', wholeNumber(1), 50)
  .option('--market-latency-ms <ms>', 'every market answer takes this long (0: an instant market)', wholeNumber(0), 0)
  .option('--kitchens <n>', 'kitchen-app processes', wholeNumber(1), 1)
  .option('--inventories <n>', 'inventory-app processes', wholeNumber(1), 1)
  .option('--cook-time-ms <ms>', 'COOK_TIME_MS of the kitchens', wholeNumber(0), 0)
  .option('--max-order-quantity <n>', 'MAX_ORDER_QUANTITY: orders per POST in a burst', wholeNumber(1), 1_000)
  .option('--warmup <seconds>', 'load first for this long (a burst: at 200 orders/s), not counted in the figures', nonNegative, 3)
  .option('--idle <seconds>', 'afterwards, measure what the stack uses with no orders for this long', nonNegative, 0)
  .option('--timeout <seconds>', 'fail the run if it has not finished by then', positiveNumber, 300)
  .option('--env <NAME=value>', 'extra environment for the services (repeatable), e.g. DB_POOL_SIZE=20', keyValue, {})
  .option('--db-setting <name=value>', 'PostgreSQL setting for the run\'s database (repeatable), e.g. log_min_duration_statement=0', dbSetting, {})
  .option('--profile <service...>', 'write a CPU profile of these services (orders, kitchen, inventory, market) when they stop')
  .option('--profile-dir <dir>', 'where --profile writes .cpuprofile files', join(tmpdir(), 'free-lunch-bench-profiles'))
  .option('--runs <n>', 'run this many times, each on a fresh stack, and report the median run (burst: by throughput; steady: by p99)', wholeNumber(1), 1)
  .option('--keep', 'keep the database and Redis keys afterwards, to look at them', false)
  .option('--json', 'print the result as one JSON object, the last line of stdout', false)
  .option('--check [baseline]', "run with the baseline's arguments and fail on a regression (default packages/bench/baseline.json)")
  .option('--tolerance <fraction>', "with --check: allowed slack, overriding the baseline's", fraction)
  .option('--save-baseline [file]', 'store this run as the baseline (default packages/bench/baseline.json)')
  .addHelpText(
    'after',
    '\nEnvironment: DATABASE_URL (a PostgreSQL server; the bench creates and drops a database of its own on it)\n' +
      'and REDIS_URL (the bench uses a key prefix of its own and deletes its keys afterwards).',
  );

interface CliOptions {
  orders: number;
  rate?: number;
  duration: number;
  intervalMs: number;
  marketLatencyMs: number;
  kitchens: number;
  inventories: number;
  cookTimeMs: number;
  maxOrderQuantity: number;
  timeout: number;
  warmup: number;
  idle: number;
  env: Record<string, string>;
  dbSetting: Record<string, string>;
  profile?: string[];
  profileDir: string;
  keep: boolean;
  runs: number;
  json: boolean;
  check?: string | true;
  tolerance?: number;
  saveBaseline?: string | true;
}

async function main(): Promise<number> {
  const userArgs = process.argv.slice(2);
  // --check runs the baseline's own arguments; any given here come after, so they win.
  const checkIndex = userArgs.findIndex((arg) => arg === '--check' || arg.startsWith('--check='));
  const checkPath = checkIndex === -1 ? null : baselinePath(checkArgument(userArgs, checkIndex));
  const baseline = checkPath ? await readBaseline(checkPath) : null;
  program.parse([...(baseline?.args ?? []), ...userArgs], { from: 'user' });
  const options = program.opts<CliOptions>();

  const load: LoadPlan =
    options.rate !== undefined
      ? { mode: 'steady', rate: options.rate, durationS: options.duration, intervalMs: options.intervalMs }
      : { mode: 'burst', orders: options.orders };
  const profileDir = resolve(callerDirectory, options.profileDir);
  if (options.profile) {
    mkdirSync(profileDir, { recursive: true });
    process.stderr.write(`CPU profiles go to ${profileDir}\n`);
  }
  const settings: BenchSettings = {
    load,
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    kitchens: options.kitchens,
    inventories: options.inventories,
    marketLatencyMs: options.marketLatencyMs,
    cookTimeMs: options.cookTimeMs,
    maxOrderQuantity: options.maxOrderQuantity,
    serviceEnv: options.env,
    databaseSettings: options.dbSetting,
    profile: { services: options.profile ?? [], dir: profileDir },
    keep: options.keep,
    timeoutS: options.timeout,
    warmupS: options.warmup,
    idleS: options.idle,
  };

  const log = (line: string) => process.stderr.write(`${line}\n`);
  const interrupt = new AbortController();
  let stackToKill: { killAll(): void } | null = null;
  const onSignal = () => {
    if (!interrupt.signal.aborted) {
      log('\ninterrupted: stopping the stack (Ctrl-C again to kill it at once)…');
      interrupt.abort();
    } else {
      stackToKill?.killAll();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const hooks: BenchHooks = {
    log,
    progress: progressBar(),
    signal: interrupt.signal,
    onStack: (stack) => (stackToKill = stack),
  };

  let result: BenchResult;
  try {
    const results: BenchResult[] = [];
    for (let run = 1; run <= options.runs; run += 1) {
      if (options.runs > 1) log(`\nrun ${run} of ${options.runs}`);
      const one = await runBench(settings, hooks);
      if (options.runs > 1) log(formatSummary(one));
      results.push(one);
    }
    result = results.length > 1 ? medianRunOf(results) : results[0]!;
  } catch (error) {
    const message = error instanceof BenchFailure ? error.message : (error as Error).stack ?? String(error);
    log(`\nbenchmark failed: ${message}`);
    if (options.json) process.stdout.write(`${JSON.stringify({ ok: false, error: (error as Error).message })}\n`);
    return interrupt.signal.aborted ? 130 : 1;
  }

  const summary = formatSummary(result);
  let findings: string[] = [];
  if (baseline) {
    findings = compareWithBaseline(result, { ...baseline, tolerance: options.tolerance ?? baseline.tolerance });
  }
  const checkLines = baseline
    ? findings.length === 0
      ? [`  check            ok against ${checkPath} (tolerance ${Math.round((options.tolerance ?? baseline.tolerance) * 100)} %)`]
      : [`  check            REGRESSION against ${checkPath}:`, ...findings.map((finding) => `                   - ${finding}`)]
    : [];
  const readable = [summary, ...checkLines].join('\n');
  if (options.json) {
    log(readable);
    const check = baseline ? { check: { baseline: checkPath, ok: findings.length === 0, findings } } : {};
    process.stdout.write(`${JSON.stringify({ ok: findings.length === 0, ...result, ...check })}\n`);
  } else {
    process.stdout.write(`${readable}\n`);
  }

  if (options.saveBaseline) {
    const path = baselinePath(options.saveBaseline);
    const args = userArgs.filter((arg, index) => !isBaselineArgument(userArgs, index) && arg !== '--json');
    await writeBaseline(path, { args, tolerance: baseline?.tolerance ?? 0.3, result });
    log(`baseline written to ${path}`);
  }
  return findings.length === 0 ? 0 : 1;
}

function baselinePath(argument: string | true): string {
  return argument === true ? DEFAULT_BASELINE : resolve(callerDirectory, argument);
}

/** The value given to --check (true when none): `--check file`, `--check=file` or a bare `--check`. */
function checkArgument(args: string[], index: number): string | true {
  const arg = args[index]!;
  if (arg.startsWith('--check=')) return arg.slice('--check='.length);
  const next = args[index + 1];
  return next !== undefined && !next.startsWith('--') ? next : true;
}

/** --check, --save-baseline and --tolerance with their values: not part of a run's own arguments. */
function isBaselineArgument(args: string[], index: number): boolean {
  const own = (arg: string | undefined) =>
    arg !== undefined && ['--check', '--save-baseline', '--tolerance'].some((name) => arg === name || arg.startsWith(`${name}=`));
  if (own(args[index])) return true;
  const previous = args[index - 1];
  return own(previous) && !previous!.includes('=') && !args[index]!.startsWith('--');
}

/** The progress bar, on stderr (so --json's stdout stays clean); cli-progress draws nothing when stderr is not a terminal. */
function progressBar(): BenchHooks['progress'] {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ' {label} {bar} {percentage}% | delivered {value}/{total} | placed {placed} | {duration}s',
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    start(total, label) {
      bar.start(total, 0, { placed: 0, label: label.padEnd(7) });
      running = true;
    },
    update({ placed, delivered }) {
      if (running) bar.update(delivered, { placed });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
