/**
 * A stream message that does not match its stream's contract: unreadable JSON, a missing field, a
 * failed schema check or an unknown stream. Thrown when publishing (nothing is written) and when
 * reading (the entry goes to the dead letter, never to a handler).
 */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';

  constructor(
    readonly stream: string,
    reason: string,
  ) {
    super(`malformed ${stream} message: ${reason}`);
  }
}
