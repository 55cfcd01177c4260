import { z } from 'zod';
import { StreamPositions, type LiveStreamName } from '@free-lunch/contracts';
import { isAfter } from './stream-position.js';

export type ResumeParse = { ok: true; positions: StreamPositions } | { ok: false; message: string };

/**
 * Reads `?from=` of a `/ws` request: JSON of live stream → last entry id the client saw. Anything
 * else is refused with a sentence saying why, so a client bug does not silently become a gap.
 */
export function parseResumePositions(from: string | undefined): ResumeParse {
  if (from === undefined || from === '') return { ok: true, positions: {} };
  let json: unknown;
  try {
    json = JSON.parse(from);
  } catch {
    return { ok: false, message: 'from must be JSON: {"<stream>": "<last entry id>"}' };
  }
  const parsed = StreamPositions.safeParse(json);
  if (!parsed.success) return { ok: false, message: `from: ${z.prettifyError(parsed.error)}` };
  return { ok: true, positions: parsed.data };
}

/** Where a live stream stands, as far as resuming from a position in it is concerned. */
export interface StreamEnd {
  /** The id of its first entry (null when empty). */
  first: string | null;
  /** The id of its last entry (`0-0` when empty). */
  last: string;
  /** Whether entries before `first` were trimmed away. */
  trimmed: boolean;
}

export type ResumeRefusal = { stream: LiveStreamName; message: string };

/**
 * Whether a client may be replayed what came after `positions`, or must reload and start from now.
 * A replay may reach back at most `maxAgeMs` (so a client from yesterday cannot make the gateway
 * read a day of events), and never from before entries that were trimmed (it would silently skip
 * them). A position at the end of its stream has nothing to replay, however old: a quiet stream's
 * last entry is what `ready` hands out.
 */
export function resumeRefusal(
  positions: StreamPositions,
  ends: Record<LiveStreamName, StreamEnd>,
  now: number,
  maxAgeMs: number,
): ResumeRefusal | null {
  for (const [stream, position] of Object.entries(positions) as Array<[LiveStreamName, string]>) {
    const end = ends[stream];
    if (end.first === null || !isAfter(end.last, position)) continue;
    const beforeFirst = isAfter(end.first, position);
    if (beforeFirst && end.trimmed) {
      return { stream, message: `${stream} no longer holds the entries after ${position}: ${RELOAD}` };
    }
    // From before the first entry (a client that joined while the stream was empty) the replay
    // starts at that entry.
    if (entryTime(beforeFirst ? end.first : position) < now - maxAgeMs) {
      return { stream, message: `${position} on ${stream} is older than the ${maxAgeMs / 1000} s a resume may reach back: ${RELOAD}` };
    }
  }
  return null;
}

/** When an entry was added: the milliseconds part of its id. */
function entryTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

const RELOAD = 'reload the state from the REST API and connect without from/resumeFrom.';
