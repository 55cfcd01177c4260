/** The arguments and environment of `pnpm dead-letters`, read into a command or a usage error. */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { StreamName } from '@free-lunch/contracts';
import { DEAD_LETTER_STREAMS, isStreamName, type DeadLetterSelection } from './dead-letter-admin.js';

export const USAGE = `Usage: pnpm dead-letters <command> [options]

Messages the consumers could not handle wait in <KEY_PREFIX><stream>.dead-letter in Redis.

Commands:
  list     [--stream S] [--limit N] [--json]
           each stream's dead-letter count and its oldest N letters (default 20; 0: counts only)
  redrive  --stream S (--id ID ... | --all) [--dry-run] [--force] [--json]
           put each letter's message back on its stream as a new entry and delete the letter;
           poison (not a valid message of the stream) is refused unless --force
  drop     --stream S (--id ID ... | --all) [--dry-run] [--json]
           delete letters, e.g. poison once read

  --id       a dead-letter id (first column of list); repeat it for several
  --all      every letter in the stream's dead-letter stream when the command starts
  --dry-run  say what would be done, change nothing
  --json     one JSON object on stdout instead of tables

Streams: ${DEAD_LETTER_STREAMS.join(', ')}
Environment: REDIS_URL (default redis://127.0.0.1:6379), KEY_PREFIX (default fl:)
Exit status: 0 done; 1 a chosen letter was refused or not found, or Redis failed; 2 bad arguments.`;

/** The same names and defaults as the services' BaseConfig; an empty variable counts as unset. */
const Environment = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).default('redis://127.0.0.1:6379'),
  KEY_PREFIX: z.string().default('fl:'),
});
export type Environment = z.infer<typeof Environment>;

/** Arguments or environment the command cannot run with: reported in one line, exit status 2. */
export class UsageError extends Error {}

/** What to do, as the arguments say. */
export type Command =
  | { name: 'help' }
  | { name: 'list'; streams: StreamName[]; limit: number; json: boolean }
  | { name: 'redrive'; selection: DeadLetterSelection; force: boolean; json: boolean }
  | { name: 'drop'; selection: DeadLetterSelection; json: boolean };

const OPTIONS = {
  stream: { type: 'string' },
  limit: { type: 'string' },
  id: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which options each command takes, beyond --json and --help. */
const ALLOWED: Record<'list' | 'redrive' | 'drop', string[]> = {
  list: ['stream', 'limit'],
  redrive: ['stream', 'id', 'all', 'dry-run', 'force'],
  drop: ['stream', 'id', 'all', 'dry-run'],
};

/** Reads the arguments (after the script name); throws {@link UsageError} for anything wrong. */
export function parseCommand(args: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // The first sentence: "Unknown option '--x'", without parseArgs' advice on positionals.
    throw new UsageError((error as Error).message.split(/\.\s/)[0]);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { name: 'help' };
  const [name, ...extra] = positionals;
  if (name === undefined) throw new UsageError('a command is required: list, redrive or drop');
  if (name !== 'list' && name !== 'redrive' && name !== 'drop') {
    throw new UsageError(`unknown command "${name}": list, redrive or drop`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const given = Object.keys(values).filter((option) => option !== 'json');
  const misplaced = given.find((option) => !ALLOWED[name].includes(option));
  if (misplaced) throw new UsageError(`${name} takes no --${misplaced}`);
  const json = values.json ?? false;

  if (name === 'list') {
    const streams = values.stream === undefined ? [...DEAD_LETTER_STREAMS] : [streamOf(values.stream)];
    return { name, streams, limit: limitOf(values.limit ?? '20'), json };
  }
  if (values.stream === undefined) throw new UsageError(`${name} needs --stream`);
  const stream = streamOf(values.stream);
  if (values.all && values.id) throw new UsageError('give either --id or --all, not both');
  if (!values.all && !values.id) throw new UsageError(`${name} needs --id ID (repeatable) or --all`);
  const ids = values.all ? 'all' : values.id!.map(idOf);
  const selection: DeadLetterSelection = { stream, ids, dryRun: values['dry-run'] ?? false };
  return name === 'redrive' ? { name, selection, force: values.force ?? false, json } : { name, selection, json };
}

function streamOf(value: string): StreamName {
  if (!isStreamName(value)) throw new UsageError(`unknown stream "${value}"; streams: ${DEAD_LETTER_STREAMS.join(', ')}`);
  return value;
}

function limitOf(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--limit must be a whole number ≥ 0, not "${value}"`);
  return Number(value);
}

function idOf(value: string): string {
  if (!/^\d+-\d+$/.test(value)) throw new UsageError(`"${value}" is not a dead-letter id (like 1764777600000-0, the first column of list)`);
  return value;
}

/** REDIS_URL and KEY_PREFIX, with the services' defaults; throws {@link UsageError} when malformed. */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in Environment.shape && value !== undefined && value.trim() !== ''),
  );
  const result = Environment.safeParse(present);
  if (!result.success) throw new UsageError(result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  return result.data;
}
