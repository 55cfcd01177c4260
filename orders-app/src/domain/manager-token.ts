import { createHash, timingSafeEqual } from 'node:crypto';

/** The token in an `Authorization: Bearer <token>` header, or null when there is none. */
export function bearerToken(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1] ?? null;
}

/**
 * Whether `presented` is the manager token. Both sides are hashed first so the comparison takes
 * the same time whatever the guess — neither a matching prefix nor the token's length leaks.
 */
export function isManagerToken(presented: string | null | undefined, managerToken: string): boolean {
  if (!presented) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(managerToken));
}
