import { z } from 'zod';
import { streamContracts, type MessageOf, type StreamName } from '@free-lunch/contracts';
import { MalformedMessageError } from './malformed-message-error.js';

/** Every entry carries one field whose value is the message JSON. */
export const MESSAGE_FIELD = 'm';

/**
 * Checks `message` against its stream's contract and returns the parsed message (unknown keys
 * stripped), so what is written is exactly what consumers will accept.
 */
export function validateMessage<S extends StreamName>(stream: S, message: unknown): MessageOf<S> {
  // Streams arrive from outside the type system too (outbox rows, raw entries).
  const schema = Object.hasOwn(streamContracts, stream) ? streamContracts[stream] : undefined;
  if (!schema) throw new MalformedMessageError(stream, 'unknown stream');
  const result = schema.safeParse(message);
  if (!result.success) throw new MalformedMessageError(stream, z.prettifyError(result.error));
  return result.data as MessageOf<S>;
}

/** Validates a message and returns the JSON an entry carries in its {@link MESSAGE_FIELD} field. */
export function serializeMessage<S extends StreamName>(stream: S, message: MessageOf<S>): string {
  return JSON.stringify(validateMessage(stream, message));
}

/** Validates a message and returns the entry's fields (`['m', json]`) for XADD. */
export function encodeMessage<S extends StreamName>(stream: S, message: MessageOf<S>): string[] {
  return [MESSAGE_FIELD, serializeMessage(stream, message)];
}

/** Reads a message out of an entry's fields; throws {@link MalformedMessageError} if it is not one. */
export function decodeMessage<S extends StreamName>(stream: S, fields: string[]): MessageOf<S> {
  const json = fieldValue(fields, MESSAGE_FIELD);
  if (json === undefined) throw new MalformedMessageError(stream, `no "${MESSAGE_FIELD}" field`);
  let message: unknown;
  try {
    message = JSON.parse(json);
  } catch (error) {
    throw new MalformedMessageError(stream, `not JSON (${(error as Error).message})`);
  }
  return validateMessage(stream, message);
}

/** Whether an entry's fields hold a valid message of `stream` (what {@link decodeMessage} would accept). */
export function isDecodable(stream: StreamName, fields: string[]): boolean {
  try {
    decodeMessage(stream, fields);
    return true;
  } catch (error) {
    if (error instanceof MalformedMessageError) return false;
    throw error;
  }
}

/** An entry's flat `[field, value, …]` list as an object, for dead letters and logs. */
export function fieldsToRecord(fields: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  return record;
}

/** The value of field `name` in an entry's flat `[field, value, …]` list, if it has one. */
export function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
