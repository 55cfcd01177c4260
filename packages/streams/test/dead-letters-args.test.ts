import { describe, expect, it } from 'vitest';
import { parseCommand, readEnvironment, UsageError } from '../src/dead-letters-args.js';
import { DEAD_LETTER_STREAMS } from '../src/index.js';

describe('pnpm dead-letters arguments', () => {
  it('when list is given no options, then it lists every stream, 20 letters each, as tables', () => {
    expect(parseCommand(['list'])).toEqual({ name: 'list', streams: [...DEAD_LETTER_STREAMS], limit: 20, json: false });
    expect(parseCommand(['list', '--stream', 'orders.placed', '--limit', '0', '--json'])).toEqual({
      name: 'list',
      streams: ['orders.placed'],
      limit: 0,
      json: true,
    });
  });

  it('when redrive and drop are given ids or --all, then they choose those letters', () => {
    expect(parseCommand(['redrive', '--stream', 'orders.placed', '--id', '1-0', '--id', '2-1', '--force'])).toEqual({
      name: 'redrive',
      selection: { stream: 'orders.placed', ids: ['1-0', '2-1'], dryRun: false },
      force: true,
      json: false,
    });
    expect(parseCommand(['drop', '--stream', 'kitchen.ingredients-requested', '--all', '--dry-run', '--json'])).toEqual({
      name: 'drop',
      selection: { stream: 'kitchen.ingredients-requested', ids: 'all', dryRun: true },
      json: true,
    });
  });

  it('when help is asked for in any way, then the command is help', () => {
    for (const args of [['--help'], ['-h'], ['help'], ['redrive', '--help']]) expect(parseCommand(args)).toEqual({ name: 'help' });
  });

  it('when the arguments are wrong, then a usage error says what is wrong', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^a command is required: list, redrive or drop$/],
      [['cook'], /^unknown command "cook": list, redrive or drop$/],
      [['list', 'extra'], /^unexpected argument "extra"$/],
      [['list', '--verbose'], /^Unknown option '--verbose'$/],
      [['list', '--stream', 'orders.cancelled'], /^unknown stream "orders\.cancelled"; streams: orders\.placed, kitchen\./],
      [['list', '--limit', 'ten'], /^--limit must be a whole number ≥ 0, not "ten"$/],
      [['list', '--limit', '-1'], /^Option '--limit' argument is ambiguous$/],
      [['list', '--all'], /^list takes no --all$/],
      [['drop', '--stream', 'orders.placed', '--all', '--force'], /^drop takes no --force$/],
      [['redrive', '--all'], /^redrive needs --stream$/],
      [['redrive', '--stream', 'orders.placed'], /^redrive needs --id ID \(repeatable\) or --all$/],
      [['redrive', '--stream', 'orders.placed', '--all', '--id', '1-0'], /^give either --id or --all, not both$/],
      [['drop', '--stream', 'orders.placed', '--id', 'abc'], /^"abc" is not a dead-letter id/],
    ];
    for (const [args, message] of cases) {
      expect(() => parseCommand(args), args.join(' ')).toThrow(UsageError);
      expect(() => parseCommand(args), args.join(' ')).toThrow(message);
    }
  });

  it('when REDIS_URL and KEY_PREFIX are unset or empty, then the services\' defaults apply, and a bad URL is a usage error', () => {
    expect(readEnvironment({})).toEqual({ REDIS_URL: 'redis://127.0.0.1:6379', KEY_PREFIX: 'fl:' });
    expect(readEnvironment({ REDIS_URL: ' ', KEY_PREFIX: 'staging:' })).toEqual({ REDIS_URL: 'redis://127.0.0.1:6379', KEY_PREFIX: 'staging:' });
    expect(() => readEnvironment({ REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL$/);
  });
});
