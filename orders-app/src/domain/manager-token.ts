import { createHash, timingSafeEqual } from 'node:crypto';

/** Shortest manager token accepted: 32 characters, about 190 bits when made as `pnpm start` makes them. */
export const MIN_MANAGER_TOKEN_LENGTH = 32;

/** The token in an `Authorization: Bearer <token>` header, or null when there is none. */
export function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * The manager tokens valid right now. Several are valid at once so a token can be rotated without a
 * single refused request: deploy with old and new, move clients to the new one, deploy without the old.
 */
export class ManagerTokens {
  readonly #digests: Buffer[];

  constructor(tokens: readonly string[]) {
    if (tokens.length === 0) throw new Error('ManagerTokens needs at least one token');
    this.#digests = tokens.map(digest);
  }

  /**
   * Whether `presented` is one of the tokens. Both sides are hashed first and every token is
   * compared, so the time taken says nothing about which token, which prefix or what length matched.
   */
  matches(presented: string | null | undefined): boolean {
    if (!presented) return false;
    const candidate = digest(presented);
    let matched = false;
    for (const known of this.#digests) matched = timingSafeEqual(candidate, known) || matched;
    return matched;
  }

  /** A short, irreversible name for a token, to count rate limits by without keeping the token itself. */
  static fingerprint(token: string): string {
    return digest(token).subarray(0, 12).toString('base64url');
  }
}

/** Whether `presented` is one of the manager tokens. */
export function isManagerToken(presented: string | null | undefined, tokens: ManagerTokens): boolean {
  return tokens.matches(presented);
}
