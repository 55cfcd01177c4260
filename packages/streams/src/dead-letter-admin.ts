import type { Redis } from 'ioredis';
import { DeadLetter, streamNames, type StreamName } from '@free-lunch/contracts';
import { decodeMessage, fieldValue, MESSAGE_FIELD } from './codec.js';
import { deadLetterKey, streamKey } from './keys.js';
import { MalformedMessageError } from './malformed-message-error.js';
import { collectReplies } from './redis-replies.js';
import { STREAM_MAX_LENGTHS } from './retention.js';

/**
 * Every stream, each of which may have a dead-letter stream: consumers dead-letter what they read
 * from the work streams, and the outbox relay what it could not publish to any stream.
 */
export const DEAD_LETTER_STREAMS: readonly StreamName[] = Object.values(streamNames);

/** Whether `value` names a stream of the contracts (without the key prefix). */
export function isStreamName(value: string): value is StreamName {
  return (DEAD_LETTER_STREAMS as readonly string[]).includes(value);
}

/** A letter's message in a few words, read as far as it can be even when it is not valid. */
export interface MessageSummary {
  type: string | null;
  version: number | null;
  orderId: string | null;
}

/** One entry of a dead-letter stream, read for a person deciding what to do with it. */
export interface DeadLetterEntry {
  /** The entry's id in the dead-letter stream: what re-drive and drop are given. */
  id: string;
  /** The dead letter; null when the entry is not one (written by hand, or corrupt). */
  letter: DeadLetter | null;
  summary: MessageSummary;
  /**
   * Why the letter cannot simply be re-driven, or null when it can: its fields are not a valid
   * message of the stream (poison: a consumer would dead-letter it again), or it is no dead letter.
   */
  problem: string | null;
  /** Whether `force` may re-drive it despite the problem: only poison with fields to put back. */
  forcible: boolean;
}

/** One stream's dead letters: how many there are, and the oldest of them. */
export interface DeadLetterListing {
  stream: StreamName;
  /** The dead-letter stream's Redis key. */
  key: string;
  count: number;
  letters: DeadLetterEntry[];
  /**
   * Why it could not be read, when Redis refused it (NOPERM: a service's user may only read the
   * streams that service consumes); null when it was read.
   */
  refusal: string | null;
}

export interface ListDeadLettersOptions {
  /** Which streams; default every one ({@link DEAD_LETTER_STREAMS}). */
  streams?: readonly StreamName[];
  /** The oldest this many letters of each stream; 0 for counts only. Default 20. */
  limit?: number;
}

/** What is done, or would be done, with the letters chosen. */
export interface DeadLetterSelection {
  stream: StreamName;
  /** Dead-letter entry ids, or `all`: every letter there when the call starts (not the ones arriving during it). */
  ids: readonly string[] | 'all';
  /** Reads and reports, writes nothing. */
  dryRun?: boolean;
}

export interface RedriveOptions extends DeadLetterSelection {
  /** Re-drive poison too (for consumers running a newer contract than this code). */
  force?: boolean;
}

/**
 * What happened to one chosen letter. `redriven`/`dropped` (or `would-…` on a dry run); `refused`
 * when it cannot be re-driven (see {@link DeadLetterEntry.problem}); `not-found` when it is not
 * (or no longer) in the dead-letter stream, e.g. re-driven or dropped by an earlier run.
 */
export interface DeadLetterOutcome {
  id: string;
  outcome: 'redriven' | 'would-redrive' | 'dropped' | 'would-drop' | 'refused' | 'not-found';
  /** The original message's entry id, when the letter was read. */
  messageId: string | null;
  summary: MessageSummary | null;
  /** The new entry's id in the stream, for `redriven`. */
  newId: string | null;
  /** Why it was refused, or the problem a forced re-drive went past. */
  detail: string | null;
}

/** Letters read (and re-driven or dropped) per round trip. */
const PAGE_SIZE = 100;

/**
 * Puts one letter's fields back on its stream and deletes the letter, atomically, and only if the
 * letter is still there, so two runs (or two operators) never re-drive it twice. KEYS: the dead-letter
 * stream, the stream; ARGV: the letter's id, the stream's XADD cap, then the fields. Checks before it
 * writes, because a script is not rolled back when a later command fails. Answers the new entry id,
 * or nil when the letter was gone.
 */
const REDRIVE_SCRIPT = `
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return false end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
redis.call('XDEL', KEYS[1], ARGV[1])
return id`;

const REDRIVE_COMMAND = 'freeLunchRedriveDeadLetter';

type RedrivingPipeline = ReturnType<Redis['pipeline']> & {
  [REDRIVE_COMMAND](keyCount: number, ...keysAndArgs: Array<string | number>): unknown;
};

/**
 * Each stream's dead-letter count and its oldest letters, in one round trip. A stream Redis does not
 * let this user read is listed with the refusal rather than failing the whole listing.
 */
export async function listDeadLetters(
  redis: Redis,
  prefix: string,
  { streams = DEAD_LETTER_STREAMS, limit = 20 }: ListDeadLettersOptions = {},
): Promise<DeadLetterListing[]> {
  const pipeline = redis.pipeline();
  for (const stream of streams) {
    pipeline.xlen(deadLetterKey(prefix, stream));
    if (limit > 0) pipeline.xrange(deadLetterKey(prefix, stream), '-', '+', 'COUNT', limit);
  }
  const replies = (await pipeline.exec()) ?? [];
  const perStream = limit > 0 ? 2 : 1;
  return streams.map((stream, index) => {
    const key = deadLetterKey(prefix, stream);
    const [length, range] = replies.slice(index * perStream, (index + 1) * perStream);
    const error = length?.[0] ?? range?.[0] ?? null;
    if (error) {
      if (!error.message.startsWith('NOPERM')) throw error;
      return { stream, key, count: 0, letters: [], refusal: error.message };
    }
    const entries = (range?.[1] ?? []) as Array<[string, string[]]>;
    return { stream, key, count: Number(length?.[1]), letters: entries.map((entry) => readEntry(stream, entry)), refusal: null };
  });
}

/**
 * Puts each chosen letter's original fields back on its stream as a new entry (with the stream's
 * usual XADD cap), where its consumer group reads it as a new message, and deletes the letter; each
 * letter atomically. Poison is refused unless `force`: a consumer would only dead-letter it again.
 * Outcomes are in the order of the dead-letter stream for `all`, of `ids` otherwise.
 */
export async function redriveDeadLetters(redis: Redis, prefix: string, options: RedriveOptions): Promise<DeadLetterOutcome[]> {
  const { stream, dryRun = false, force = false } = options;
  // Defining it again on a client that has it is harmless: same name, same script.
  redis.defineCommand(REDRIVE_COMMAND, { lua: REDRIVE_SCRIPT });
  const outcomes: DeadLetterOutcome[] = [];
  for await (const page of chosenPages(redis, prefix, options)) {
    const redrivable: Array<{ entry: DeadLetterEntry; outcome: DeadLetterOutcome }> = [];
    for (const { id, entry } of page) {
      const outcome = outcomeOf(id, entry);
      outcomes.push(outcome);
      if (!entry) continue;
      if (entry.problem && !(force && entry.forcible)) {
        outcome.outcome = 'refused';
        continue;
      }
      outcome.outcome = 'would-redrive';
      redrivable.push({ entry, outcome });
    }
    if (dryRun || redrivable.length === 0) continue;

    const pipeline = redis.pipeline() as RedrivingPipeline;
    for (const { entry } of redrivable) {
      pipeline[REDRIVE_COMMAND](
        2,
        deadLetterKey(prefix, stream),
        streamKey(prefix, stream),
        entry.id,
        STREAM_MAX_LENGTHS[stream],
        ...Object.entries(entry.letter!.fields).flat(),
      );
    }
    const newIds = collectReplies(await pipeline.exec(), 'redrive');
    redrivable.forEach(({ outcome }, index) => {
      const newId = newIds[index] as string | null;
      // Gone between the read and the script: another run re-drove or dropped it.
      outcome.outcome = newId === null ? 'not-found' : 'redriven';
      outcome.newId = newId;
    });
  }
  return outcomes;
}

/** Deletes the chosen letters (XDEL), after whoever runs it has read them. */
export async function dropDeadLetters(redis: Redis, prefix: string, options: DeadLetterSelection): Promise<DeadLetterOutcome[]> {
  const { stream, dryRun = false } = options;
  const outcomes: DeadLetterOutcome[] = [];
  for await (const page of chosenPages(redis, prefix, options)) {
    const found = page.flatMap(({ id, entry }) => {
      const outcome = outcomeOf(id, entry);
      outcomes.push(outcome);
      if (!entry) return [];
      outcome.outcome = 'would-drop';
      return [outcome];
    });
    if (dryRun || found.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const { id } of found) pipeline.xdel(deadLetterKey(prefix, stream), id);
    const deleted = collectReplies(await pipeline.exec(), 'XDEL');
    found.forEach((outcome, index) => {
      outcome.outcome = Number(deleted[index]) === 1 ? 'dropped' : 'not-found';
    });
  }
  return outcomes;
}

/** The chosen letters, a page at a time: each id with its entry, or null when there is none. */
async function* chosenPages(
  redis: Redis,
  prefix: string,
  { stream, ids }: DeadLetterSelection,
): AsyncGenerator<Array<{ id: string; entry: DeadLetterEntry | null }>> {
  const key = deadLetterKey(prefix, stream);
  if (ids !== 'all') {
    // An id given twice is one letter, chosen once.
    const unique = [...new Set(ids)];
    for (let start = 0; start < unique.length; start += PAGE_SIZE) {
      const chunk = unique.slice(start, start + PAGE_SIZE);
      const pipeline = redis.pipeline();
      for (const id of chunk) pipeline.xrange(key, id, id);
      const replies = collectReplies(await pipeline.exec(), 'XRANGE') as Array<Array<[string, string[]]>>;
      yield chunk.map((id, index) => {
        const found = replies[index]![0];
        return { id, entry: found ? readEntry(stream, found) : null };
      });
    }
    return;
  }
  // Up to the newest letter as of now: a re-driven message that fails again is dead-lettered
  // anew, and must not be picked up by the same run and re-driven in a loop.
  const [newest] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  if (!newest) return;
  let from = '-';
  for (;;) {
    const entries = await redis.xrange(key, from, newest[0], 'COUNT', PAGE_SIZE);
    if (entries.length === 0) return;
    yield entries.map((entry) => ({ id: entry[0], entry: readEntry(stream, entry) }));
    from = `(${entries.at(-1)![0]}`;
  }
}

function outcomeOf(id: string, entry: DeadLetterEntry | null): DeadLetterOutcome {
  return {
    id,
    outcome: 'not-found',
    messageId: entry?.letter?.messageId ?? null,
    summary: entry?.summary ?? null,
    newId: null,
    detail: entry?.problem ?? null,
  };
}

/** Reads one dead-letter entry: the letter, what its message is, and whether it can go back. */
function readEntry(stream: StreamName, [id, entryFields]: [string, string[]]): DeadLetterEntry {
  const unknown: MessageSummary = { type: null, version: null, orderId: null };
  const json = fieldValue(entryFields, MESSAGE_FIELD);
  let parsed: ReturnType<typeof DeadLetter.safeParse> | null = null;
  if (json !== undefined) {
    try {
      parsed = DeadLetter.safeParse(JSON.parse(json));
    } catch {
      parsed = null;
    }
  }
  if (!parsed?.success) {
    return { id, letter: null, summary: unknown, problem: `not a dead letter (no "${MESSAGE_FIELD}" field holding one)`, forcible: false };
  }
  const letter = parsed.data;
  const fields = Object.entries(letter.fields).flat();
  const summary = summarize(fields);
  if (letter.stream !== stream) {
    return { id, letter, summary, problem: `the letter is of stream ${letter.stream}, not ${stream}`, forcible: false };
  }
  if (fields.length === 0) {
    return { id, letter, summary, problem: 'no fields to put back (the entry was gone when it was read)', forcible: false };
  }
  try {
    decodeMessage(stream, fields);
    return { id, letter, summary, problem: null, forcible: false };
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    return { id, letter, summary, problem: `poison: ${error.message}`, forcible: true };
  }
}

/** The type, version and order id an entry's message JSON shows, whether or not it is valid. */
function summarize(fields: string[]): MessageSummary {
  const summary: MessageSummary = { type: null, version: null, orderId: null };
  const json = fieldValue(fields, MESSAGE_FIELD);
  if (json === undefined) return summary;
  let message: unknown;
  try {
    message = JSON.parse(json);
  } catch {
    return summary;
  }
  if (typeof message !== 'object' || message === null) return summary;
  const { type, version, orderId } = message as Record<string, unknown>;
  if (typeof type === 'string') summary.type = type;
  if (typeof version === 'number') summary.version = version;
  if (typeof orderId === 'string') summary.orderId = orderId;
  return summary;
}
