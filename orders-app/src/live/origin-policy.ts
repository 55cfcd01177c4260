/**
 * Whether a page served from `origin` may open the live view of this service, reached by the
 * browser as `serviceOrigin` (scheme and Host of the upgrade request). A browser sends any site's
 * cookies and credentials along with a WebSocket it opens, and no CORS check applies to it, so the
 * gateway checks the page's origin itself: its own, or one of `allowed` (`CORS_ORIGINS`).
 */
export function isAllowedOrigin(origin: string, serviceOrigin: string, allowed: readonly string[]): boolean {
  const page = originOf(origin);
  if (page === null) return false;
  return page === originOf(serviceOrigin) || allowed.some((entry) => originOf(entry) === page);
}

/** The origin as a browser would write it (lower-case host, default port left out), or null. */
function originOf(value: string): string | null {
  if (!URL.canParse(value)) return null;
  const origin = new URL(value).origin;
  // Opaque origins (a sandboxed frame or a file sends `null`) match nothing.
  return origin === 'null' ? null : origin;
}
