import { describe, expect, it } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { deadLetterKey, decodeMessage, encodeMessage, isDecodable, MalformedMessageError, MESSAGE_FIELD, streamKey } from '../src/index.js';
import { orderPlaced } from './helpers.js';

const stream = streamNames.orderPlaced;

describe('stream keys', () => {
  it('when a prefix is given, then the stream and its dead letter live under it', () => {
    expect(streamKey('fl:', stream)).toBe('fl:orders.placed');
    expect(deadLetterKey('fl:', stream)).toBe('fl:orders.placed.dead-letter');
  });
});

describe('encodeMessage / decodeMessage', () => {
  it('when a valid message is encoded, then decoding its fields gives the same message back', () => {
    const message = orderPlaced();
    const fields = encodeMessage(stream, message);
    expect(fields[0]).toBe('m');
    expect(decodeMessage(stream, fields)).toEqual(message);
  });

  it('when a message breaks its contract, then encoding refuses it and says which field', () => {
    const message = { ...orderPlaced(), orderId: 'not-a-uuid' };
    expect(() => encodeMessage(stream, message)).toThrow(MalformedMessageError);
    expect(() => encodeMessage(stream, message)).toThrow(/orderId/);
  });

  it('when a message carries unknown keys, then they are not written', () => {
    const fields = encodeMessage(stream, { ...orderPlaced(), extra: 'x' } as ReturnType<typeof orderPlaced>);
    expect(JSON.parse(fields[1]!)).not.toHaveProperty('extra');
  });

  it('when fields are not a message, then decoding throws MalformedMessageError with the reason', () => {
    expect(() => decodeMessage(stream, ['m', '{oops'])).toThrow(/not JSON/);
    expect(() => decodeMessage(stream, ['x', '1'])).toThrow(/no "m" field/);
    expect(() => decodeMessage(stream, ['m', JSON.stringify({ type: 'order.placed', version: 2 })])).toThrow(
      MalformedMessageError,
    );
    expect(() => decodeMessage('no.such-stream' as typeof stream, ['m', '{}'])).toThrow(/unknown stream/);
  });

  it('when asked whether fields are a message, then isDecodable answers as decodeMessage would, without throwing', () => {
    expect(isDecodable(stream, encodeMessage(stream, orderPlaced()))).toBe(true);
    expect(isDecodable(stream, [MESSAGE_FIELD, '{oops'])).toBe(false);
    expect(isDecodable(stream, ['x', '1'])).toBe(false);
  });
});
