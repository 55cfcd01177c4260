import { describe, expect, it } from 'vitest';
import { bearerToken, isManagerToken } from '../../src/domain/manager-token.js';

describe('manager token', () => {
  it('when the header is a Bearer token, then the token is read from it', () => {
    expect(bearerToken('Bearer s3cret')).toBe('s3cret');
    expect(bearerToken('bearer s3cret')).toBe('s3cret');
  });

  it.each([undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer two words'])(
    'when the header is %j, then there is no token',
    (header) => {
      expect(bearerToken(header)).toBeNull();
    },
  );

  it('when the presented token is the manager token, then it is accepted', () => {
    expect(isManagerToken('s3cret', 's3cret')).toBe(true);
  });

  it.each([null, '', 's3cre', 's3cret!', 'S3CRET'])('when the presented token is %j, then it is refused', (token) => {
    expect(isManagerToken(token, 's3cret')).toBe(false);
  });
});
