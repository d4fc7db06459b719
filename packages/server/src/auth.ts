// Authentication and roles. With auth on, every call under /api carries an API key
// (`Authorization: Bearer bk_…` or `X-Api-Key: bk_…`) or, when the server is given JWT settings, a
// bearer JWT; each route checks the caller's role against the least role it declares. Modes:
// - `required`: always on (a server reachable from other machines, or one that takes JWTs);
// - `auto`: on as soon as the store has a key (looked up every few seconds), so creating the first
//   key locks a local server down without a restart, and revoking keys never opens it again; off
//   before, when every caller is an admin, as on a local dev server, which listens on loopback only.
import type { MiddlewareHandler } from 'hono';
import { BatonError } from '@baton/core';
import type { ApiKeys, Caller } from './keys.js';
import { looksLikeJwt, type JwtVerifier } from './jwt.js';
import { allows, type Role } from './roles.js';

export type AuthMode = 'required' | 'auto';

/** What the handlers of a request can read. */
export interface ServerEnv {
  Variables: { caller: Caller; requestId: string };
}

function keyOf(header: (name: string) => string | undefined): string | undefined {
  const auth = header('authorization');
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : '';
  }
  return header('x-api-key');
}

/** Finds who calls: sets `caller`, or refuses with E_UNAUTHENTICATED. */
export function authenticate(mode: AuthMode, keys: ApiKeys, jwt?: JwtVerifier): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    if (mode === 'auto' && !(await keys.required())) {
      c.set('caller', { role: 'admin' });
      return next();
    }
    const key = keyOf((name) => c.req.header(name));
    if (key === undefined)
      throw new BatonError(
        'E_UNAUTHENTICATED',
        'this server requires an API key: send it as `Authorization: Bearer <key>` (create one with `baton keys create --role viewer`)',
      );
    if (looksLikeJwt(key)) {
      if (!jwt)
        throw new BatonError(
          'E_UNAUTHENTICATED',
          'this server takes API keys, not JWTs (start it with JWT settings to accept them)',
        );
      c.set('caller', await jwt.verify(key));
      return next();
    }
    const caller = await keys.authenticate(key);
    // The same answer for a malformed, unknown or revoked key: nothing to learn by probing.
    if (!caller)
      throw new BatonError('E_UNAUTHENTICATED', 'the API key is not valid (unknown, malformed or revoked)');
    c.set('caller', caller);
    return next();
  };
}

/** Refuses callers whose role is below `needed`. */
export function requireRole(needed: Role): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const { role } = c.get('caller');
    if (!allows(role, needed))
      throw new BatonError('E_FORBIDDEN', `this call needs the ${needed} role; the key's role is ${role}`, {
        details: { needed, role },
      });
    return next();
  };
}
