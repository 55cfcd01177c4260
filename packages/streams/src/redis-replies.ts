import type { ChainableCommander } from 'ioredis';

/**
 * Runs a MULTI/EXEC. When Redis refused a command while queueing it, EXEC answers only that the
 * transaction was discarded; the refusal itself becomes the error's cause.
 */
export async function execTransaction(transaction: ChainableCommander): Promise<Array<[Error | null, unknown]> | null> {
  try {
    return await transaction.exec();
  } catch (error) {
    const first = (error as { previousErrors?: unknown[] }).previousErrors?.[0];
    // eslint-disable-next-line preserve-caught-error -- the refusal explains the discard, so it is the cause
    if (first instanceof Error) throw new Error(`${(error as Error).message} (${first.message})`, { cause: first });
    throw error;
  }
}

/** The replies of a pipeline or MULTI, or one error saying how many of its commands failed and why. */
export function collectReplies(results: Array<[Error | null, unknown]> | null, command: string): unknown[] {
  // exec() answers null only when a MULTI was discarded by WATCH, which is never used here.
  const replies = results ?? [];
  const errors = replies.flatMap(([error]) => (error ? [error] : []));
  if (errors.length > 0) {
    throw new Error(`${errors.length} of ${replies.length} ${command} commands failed: ${errors[0]!.message}`, {
      cause: errors[0],
    });
  }
  return replies.map(([, reply]) => reply);
}

/**
 * True when Redis no longer has the stream or its consumer group (restart without persistence,
 * failover, someone deleted the key): NOGROUP, or a blocked read told its key disappeared.
 */
export function isGroupMissing(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause.message.startsWith('NOGROUP') || cause.message.includes('no longer exists')) return true;
  }
  return false;
}
