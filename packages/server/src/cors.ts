// Cross-origin calls: refused by default (browsers enforce it), allowed for the origins a server is
// started with (`--cors-origin`), so a page on another site can call the API with a key. No cookies
// are involved: a key travels in a header, so credentials mode is never turned on.
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { BatonError } from '@baton/core';

/** Checks origins as a user would type them: `https://host[:port]`, or `*` for any. */
export function checkOrigins(origins: readonly string[]): string[] {
  return origins.map((o) => {
    if (o === '*') return o;
    let url: URL | undefined;
    try {
      url = new URL(o);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== o)
      throw new BatonError(
        'E_INVALID_OPTION',
        `'${o}' is not an origin: give scheme, host and port only, as in https://app.example or http://localhost:5173 (no path, no trailing slash), or * for any`,
      );
    return o;
  });
}

export function corsFor(origins: readonly string[]): MiddlewareHandler {
  return cors({
    origin: origins.includes('*') ? '*' : [...origins],
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowHeaders: ['Authorization', 'X-Api-Key', 'Content-Type', 'Last-Event-ID', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'Retry-After'],
    maxAge: 600,
  });
}
