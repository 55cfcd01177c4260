import { describe, expect, it } from 'vitest';
import { bearerToken, ManagerTokens } from '../../src/domain/manager-token.js';

const current = 'current-token-0123456789abcdefghijklmn';
const next = 'next-token-0123456789abcdefghijklmnopqr';

describe('manager tokens', () => {
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

  it('when two tokens are configured (a rotation), then each of them is accepted', () => {
    const tokens = new ManagerTokens([current, next]);
    expect(tokens.matches(current)).toBe(true);
    expect(tokens.matches(next)).toBe(true);
  });

  it.each([null, '', current.slice(0, -1), `${current}!`, current.toUpperCase(), `${current},${next}`])(
    'when the presented token is %j, then it is refused',
    (token) => {
      expect(new ManagerTokens([current, next]).matches(token)).toBe(false);
    },
  );

  it('when a token is fingerprinted, then the fingerprint is stable and does not contain the token', () => {
    expect(ManagerTokens.fingerprint(current)).toBe(ManagerTokens.fingerprint(current));
    expect(ManagerTokens.fingerprint(current)).not.toBe(ManagerTokens.fingerprint(next));
    expect(ManagerTokens.fingerprint(current)).not.toContain(current.slice(0, 8));
  });
});
