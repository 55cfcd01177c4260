import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Books } from './books.js';
import { ChaosStack } from './chaos-stack.js';
import { inject, type FaultContext } from './faults/index.js';
import { proxyOutage, serverOutage, type PostgresOutage } from './faults/postgres.js';
import { findings, type ChaosResult, type Happened } from './findings.js';
import { OrderLoad } from './load.js';
import { formatFaultLine, formatSchedule } from './report.js';
import type { ScheduledFault } from './schedule.js';

/** Everything one run is made of. */
export interface ChaosSettings {
  seed: number;
  /** Seconds of load and faults; the last fault ends then. */
  durationS: number;
  /** Orders per second, placed as one chunk a second. */
  rate: number;
  kitchens: number;
  inventories: number;
  /** After the injection phase, wait at most this long for the last orders. */
  waitS: number;
  /** The whole run, stack start and clean-up aside, must end within this. */
  timeoutS: number;
  recoveryLimitS: number;
  marketLatencyMs: number;
  /** Stop and start the local PostgreSQL server for the outage instead of unplugging a proxy. */
  stopPostgres: boolean;
  /** Wipe Redis with FLUSHALL instead of deleting the run's keys. */
  flushRedis: boolean;
  /** The services log in to Redis as per-run ACL users (as with `pnpm start`), not through a proxy. */
  redisUsers: boolean;
  serviceEnv: Record<string, string>;
  databaseUrl: string;
  redisUrl: string;
}

export interface ChaosHooks {
  log: (line: string) => void;
  /** Aborting (Ctrl-C) stops the run; the stack is taken down all the same. */
  signal: AbortSignal;
  /** Called with the stack once it exists, so a second Ctrl-C can kill it outright. */
  onStack?(stack: ChaosStack): void;
}

/** A run that could not be carried out (as opposed to one whose verdict is a failure). */
export class ChaosFailure extends Error {
  override name = 'ChaosFailure';
}

const PROGRESS_EVERY_MS = 10_000;

/**
 * One chaos run: starts an isolated stack, places orders while it injects the scheduled faults,
 * waits for the last orders, reads the verdict out of the services' databases, Redis and the market,
 * and takes everything down, also when the run fails, times out or is interrupted.
 */
export async function runChaos(settings: ChaosSettings, schedule: ScheduledFault[], hooks: ChaosHooks): Promise<ChaosResult> {
  const { log } = hooks;
  const timeout = AbortSignal.timeout(settings.timeoutS * 1000);
  const signal = AbortSignal.any([hooks.signal, timeout]);
  const cutShort = (what: string) =>
    new ChaosFailure(
      timeout.aborted ? `the run did not finish within its ${settings.timeoutS} s limit (--timeout) ${what}` : `interrupted ${what}`,
    );
  // Checked before anything starts: a wrong --stop-postgres is the user's to fix.
  let postgresOutage: PostgresOutage | null = settings.stopPostgres ? await serverOutage(settings.databaseUrl) : null;
  const stack = new ChaosStack({ ...settings, postgresProxy: !settings.stopPostgres, log });
  hooks.onStack?.(stack);
  const redis = new Redis(settings.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  let books: Books | null = null;
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    log(
      `starting an isolated stack (database ${stack.databaseName}, Redis prefix ${stack.keyPrefix}, ` +
        `${settings.kitchens} kitchens, ${settings.inventories} warehouses, orders ×1, market simulator)…`,
    );
    await abortable(stack.start(), signal, () => cutShort('while the stack was starting')).catch((error: Error) => {
      if (error instanceof ChaosFailure) throw error;
      throw new ChaosFailure(`the stack did not start: ${shortened(error.message)}`);
    });
    await redis.connect();
    postgresOutage ??= proxyOutage(stack.postgresProxy!);
    books = new Books(stack.adminDatabaseUrl);
    log(formatSchedule(schedule, settings.seed));

    const context: FaultContext = { stack, redis, postgresOutage, flushRedis: settings.flushRedis };
    const startMs = Date.now();
    const stopPlacing = new AbortController();
    const load = new OrderLoad({ ordersUrl: stack.client.urls.orders, managerToken: stack.managerToken }, settings.rate, signal);
    load.start(stopPlacing.signal);
    const liveBooks = books;
    progressTimer = setInterval(() => {
      void liveBooks.progress().then(
        ({ delivered }) =>
          log(
            `  t=${seconds(Date.now() - startMs)}  placed ${load.orderIds.length} · delivered ${delivered}` +
              (load.retrying > 0 ? ` · ${load.retrying} chunk(s) being retried` : ''),
          ),
        () => log(`  t=${seconds(Date.now() - startMs)}  placed ${load.orderIds.length} · (the database does not answer)`),
      );
    }, PROGRESS_EVERY_MS);

    const happened = await runSchedule(schedule, startMs, context, signal, log).catch((error: Error) => {
      throw signal.aborted ? cutShort('while injecting faults') : error;
    });
    if (load.refusal()) throw new ChaosFailure(load.refusal()!.message);
    await sleepUntil(startMs + settings.durationS * 1000, signal).catch(() => undefined);
    stopPlacing.abort();
    const injectionEndMs = Date.now();
    log(`  t=${seconds(injectionEndMs - startMs)}  faults over; no more orders; waiting up to ${settings.waitS} s for the rest`);

    // Until every chunk is accepted and every accepted order delivered, or the wait is over.
    const waitEndMs = injectionEndMs + settings.waitS * 1000;
    for (;;) {
      if (signal.aborted) throw cutShort('while waiting for the last orders');
      if (load.refusal()) throw new ChaosFailure(load.refusal()!.message);
      const counts = await books.progress().catch(() => null);
      if (load.retrying === 0 && counts && counts.delivered >= load.orderIds.length) break;
      if (Date.now() > waitEndMs) {
        log(`  the ${settings.waitS} s wait is over (--wait)`);
        break;
      }
      await sleep(250, undefined, { signal }).catch(() => undefined);
    }
    clearInterval(progressTimer);
    log(`  t=${seconds(Date.now() - startMs)}  reading the books…`);

    const result = await findings(settings, { stack, books, redis, load, happened, injectionEndMs, startMs });
    return result;
  } catch (error) {
    if (signal.aborted && !(error instanceof ChaosFailure)) throw cutShort('(the run was cut short)');
    throw error;
  } finally {
    clearInterval(progressTimer);
    if (postgresOutage?.away) {
      log('bringing PostgreSQL back…');
      await postgresOutage.end().catch((error: Error) => log(`could not bring PostgreSQL back: ${error.message}`));
    }
    await books?.close().catch(() => undefined);
    redis.disconnect();
    log('stopping the stack and deleting its database and keys…');
    await stack.stop();
  }
}


/**
 * Injects each fault at its time, holds it, undoes it, and prints each step. A fault that takes
 * longer than planned (a replacement slow to start) pushes the later ones back by as much, so every
 * fault keeps the quiet time after it that the schedule gave it and its recovery can be told apart.
 */
async function runSchedule(
  schedule: ScheduledFault[],
  startMs: number,
  context: FaultContext,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<Happened[]> {
  const happened: Happened[] = [];
  let slipMs = 0;
  for (const fault of schedule) {
    await sleepUntil(startMs + fault.atS * 1000 + slipMs, signal);
    const startedAtMs = Date.now();
    const injection = await inject(fault, context).catch((error: Error) => {
      throw new ChaosFailure(`${fault.kind} of ${fault.target} failed: ${error.message.split('\n')[0]}`);
    });
    log(formatFaultLine((startedAtMs - startMs) / 1000, fault.kind, fault.target, injection.detail));
    let detail = injection.detail;
    if (injection.undo) {
      try {
        await sleepUntil(startedAtMs + fault.holdS * 1000, signal);
      } finally {
        // Undone even when the run is cut short, so nothing is left broken for the clean-up.
        const ended = await injection.undo().catch((error: Error) => {
          throw new ChaosFailure(`could not end ${fault.kind} of ${fault.target}: ${error.message.split('\n')[0]}`);
        });
        detail = `${detail}; then ${ended}`;
        log(formatFaultLine((Date.now() - startMs) / 1000, fault.kind, fault.target, `└ ${ended}`));
      }
    }
    const endedAtMs = Date.now();
    slipMs = Math.max(slipMs, endedAtMs - (startMs + (fault.atS + fault.holdS) * 1000));
    happened.push({ fault, startedAtMs, endedAtMs, detail, poison: injection.poison ?? 0 });
  }
  return happened;
}

/** `work`, unless `signal` aborts first, in which case the error `reason()` makes. */
async function abortable<T>(work: Promise<T>, signal: AbortSignal, reason: () => Error): Promise<T> {
  if (signal.aborted) throw reason();
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** A message with a process's output in it, cut to its first line and the output's last lines. */
function shortened(message: string): string {
  const [first, ...rest] = message.split('\n');
  const tail = rest.join('\n').slice(-1_500);
  return rest.length === 0 ? first! : `${first}\n…${tail}`;
}

/** Waits until the epoch ms `atMs` (not at all if it is past); rejects if `signal` aborts. */
async function sleepUntil(atMs: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  const wait = atMs - Date.now();
  if (wait > 0) await sleep(wait, undefined, { signal });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1).padStart(6)} s`;
}
