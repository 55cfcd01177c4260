import { StreamPositions } from '@free-lunch/contracts';
import { z } from 'zod';

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
