import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { testEnv } from '@free-lunch/service-kit/testing';
import { deadLetterKey, StreamPublisher, streamKey, type StreamConsumer } from '../src/index.js';
import { addPoisonLetter, brokenKitchen, failure, group, stream, untilDeadLettered } from './dead-letter-fixtures.js';
import { isolatedPrefix, orderPlaced, redisClient } from './helpers.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const script = fileURLToPath(new URL('../src/dead-letters-cli.ts', import.meta.url));

/** Runs a command to the end as its own process and answers its exit code and output. */
function run(file: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

// Every command is a process of its own (tsx compiles on each start): a second or two apiece on a busy machine.
describe('pnpm dead-letters', { timeout: 60_000 }, () => {
  let redis: Redis;
  let keys: ReturnType<typeof isolatedPrefix>;
  let publisher: StreamPublisher;
  let consumer: StreamConsumer<typeof stream> | null;

  /** The CLI against this test's key prefix. */
  const deadLetters = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', script, ...args], { REDIS_URL: testEnv.redisUrl, KEY_PREFIX: keys.prefix });

  beforeEach(() => {
    redis = redisClient();
    keys = isolatedPrefix();
    publisher = new StreamPublisher(redis, { prefix: keys.prefix });
    consumer = null;
  });

  afterEach(async () => {
    await consumer?.stop();
    await keys.cleanUp(redis);
    await redis.quit();
  });

  it('when a consumer dead-letters a message, then list shows it with its reason, and redrive puts it back to be handled once', async () => {
    const kitchen = await brokenKitchen(redis, keys.prefix);
    consumer = kitchen.consumer;
    const order = orderPlaced();
    const originalId = await publisher.publish(stream, order);
    await untilDeadLettered(redis, keys.prefix, 1);
    const [[letterId]] = (await redis.xrange(deadLetterKey(keys.prefix, stream), '-', '+')) as [[string, string[]]];

    const table = await deadLetters('list');
    const json = await deadLetters('list', '--stream', stream, '--json');

    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`${stream}: 1 dead letter (${keys.prefix}${stream}.dead-letter)`);
    expect(table.stdout).toContain('kitchen.ingredients-requested: no dead letters');
    const row = table.stdout.split('\n').find((line) => line.includes(letterId))!;
    for (const cell of [originalId, group, `order.placed v1 ${order.orderId}`, failure]) expect(row).toContain(cell);
    expect(JSON.parse(json.stdout)).toMatchObject({
      prefix: keys.prefix,
      streams: [{ stream, count: 1, letters: [{ id: letterId, letter: { messageId: originalId, reason: failure, deliveries: 2 } }] }],
    });

    kitchen.broken = false;
    const redrive = await deadLetters('redrive', '--stream', stream, '--id', letterId);

    expect(redrive).toMatchObject({ code: 0, stderr: '' });
    expect(redrive.stdout).toMatch(new RegExp(`^re-drove ${letterId} \\(order\\.placed v1 ${order.orderId}, was ${originalId}\\) → ${stream} \\d+-\\d+$`, 'm'));
    await vi.waitFor(() => expect(kitchen.handled).toEqual([order.orderId]), { timeout: 10_000 });
    expect((await deadLetters('list', '--stream', stream)).stdout.trim()).toBe(`${stream}: no dead letters`);

    const again = await deadLetters('redrive', '--stream', stream, '--id', letterId);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`not found ${letterId}`);
    expect(kitchen.handled).toEqual([order.orderId]);
  });

  it('when poison sits among good letters, then a dry run changes nothing, --all re-drives the good and refuses the poison, and drop removes it', async () => {
    await publisher.publishDeadLetters([
      { stream, group, messageId: '1-0', fields: { m: JSON.stringify(orderPlaced()) }, reason: failure, deliveries: 5, at: new Date().toISOString() },
    ]);
    const poisonId = await addPoisonLetter(redis, keys.prefix, 'not json');
    const before = await redis.xrange(deadLetterKey(keys.prefix, stream), '-', '+');

    const dryRun = await deadLetters('redrive', '--stream', stream, '--all', '--dry-run');

    expect(dryRun.code).toBe(1);
    expect(dryRun.stdout).toMatch(/^would re-drive .* → orders\.placed$/m);
    expect(dryRun.stdout).toMatch(new RegExp(`^refused ${poisonId} \\(unreadable message, was 1-0\\): poison: malformed orders\\.placed message: not JSON`, 'm'));
    expect(dryRun.stdout).toContain('(dry run: nothing changed)');
    expect(await redis.xrange(deadLetterKey(keys.prefix, stream), '-', '+')).toEqual(before);
    expect(await redis.exists(streamKey(keys.prefix, stream))).toBe(0);

    const redrive = await deadLetters('redrive', '--stream', stream, '--all', '--json');

    expect(redrive.code).toBe(1);
    const { outcomes } = JSON.parse(redrive.stdout) as { outcomes: Array<{ id: string; outcome: string }> };
    expect(outcomes.map(({ outcome }) => outcome)).toEqual(['redriven', 'refused']);
    expect(await redis.xlen(streamKey(keys.prefix, stream))).toBe(1);
    expect(await redis.xrange(deadLetterKey(keys.prefix, stream), '-', '+')).toEqual([before[1]]);

    const drop = await deadLetters('drop', '--stream', stream, '--all');

    expect(drop.code).toBe(0);
    expect(drop.stdout).toContain(`dropped ${poisonId}`);
    expect(await redis.xlen(deadLetterKey(keys.prefix, stream))).toBe(0);
    expect(await deadLetters('redrive', '--stream', stream, '--all')).toMatchObject({ code: 0, stdout: `${stream}: no dead letters\n` });
  });

  it('when the arguments are wrong, then it says what is wrong and exits 2 without a stack trace', async () => {
    // Each way of getting it wrong is read in-process in dead-letters-args.test.ts; these show the process's side.
    const cases: Array<[string[], RegExp]> = [
      [['redrive', '--stream', 'orders.cancelled', '--all'], /unknown stream "orders\.cancelled"; streams: orders\.placed, /],
      [['list', '--verbose'], /Unknown option '--verbose'$/m],
      [[], /a command is required/],
    ];
    for (const [args, message] of cases) {
      const result = await deadLetters(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain('Run pnpm dead-letters --help for usage.');
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).toBe('');
    }
  });

  it('when asked for help through pnpm, then it prints the usage and exits 0', async () => {
    const result = await run('pnpm', ['--silent', 'dead-letters', '--help'], {});

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: pnpm dead-letters <command> \[options\]/);
    expect(result.stdout).toContain('redrive  --stream S (--id ID ... | --all) [--dry-run] [--force] [--json]');
  });
});
