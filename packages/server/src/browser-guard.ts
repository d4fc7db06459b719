// What a browser must not be able to do to a server it was not sent to. A page on any site can make
// the browser send requests to http://127.0.0.1:8154, and a local server without keys answers
// everyone as an admin, so:
// - a loopback server answers only requests addressed to a loopback name (a DNS name that resolves
//   to 127.0.0.1 is how a rebinding attack gets past the same-origin rule);
// - a request that changes something and carries an Origin must come from the server's own pages
//   or from an origin allowed by --cors-origin (a form post from another site carries its origin).
import type { MiddlewareHandler } from 'hono';
import { BatonError } from '@baton/core';
import { isLoopback } from './loopback.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function hostnameOf(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

export function browserGuard(options: {
  loopback: boolean;
  corsOrigins: readonly string[];
}): MiddlewareHandler {
  const anyOrigin = options.corsOrigins.includes('*');
  return async (c, next) => {
    const host = c.req.header('host') ?? '';
    if (options.loopback) {
      const name = hostnameOf(host);
      if (!name || !isLoopback(name))
        throw new BatonError(
          'E_FORBIDDEN',
          `this server listens on loopback and answers only requests addressed to it (127.0.0.1, localhost, ::1), not to '${host.slice(0, 100)}'`,
        );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !SAFE.has(c.req.method)) {
      const own = origin === `http://${host}` || origin === `https://${host}`;
      if (!own && !anyOrigin && !options.corsOrigins.includes(origin))
        throw new BatonError(
          'E_FORBIDDEN',
          `a request from a page of ${origin.slice(0, 100)} was refused: only this server's own pages, or origins given with --cors-origin, may change anything`,
        );
    }
    return next();
  };
}
