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
  Variables: {
    caller: Caller;
    requestId: string;
    /** Checks the request's credentials again (a long-lived stream whose key may be revoked meanwhile). */
    stillAuthorized: () => Promise<boolean>;
  };
}

function keyOf(header: (name: string) => string | undefined): string | undefined {
  const auth = header('authorization');
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : '';
  }
  return header('x-api-key');
}

/** Who calls, from the request's headers; E_UNAUTHENTICATED when the credentials do not pass. */
async function identify(
  mode: AuthMode,
  keys: ApiKeys,
  jwt: JwtVerifier | undefined,
  header: (name: string) => string | undefined,
): Promise<Caller> {
  if (mode === 'auto' && !(await keys.required())) return { role: 'admin' };
  const key = keyOf(header);
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
    return jwt.verify(key);
  }
  const caller = await keys.authenticate(key);
  // The same answer for a malformed, unknown or revoked key: nothing to learn by probing.
  if (!caller)
    throw new BatonError('E_UNAUTHENTICATED', 'the API key is not valid (unknown, malformed or revoked)');
  return caller;
}

/** Finds who calls: sets `caller`, or refuses with E_UNAUTHENTICATED. */
export function authenticate(mode: AuthMode, keys: ApiKeys, jwt?: JwtVerifier): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const header = (name: string) => c.req.header(name);
    c.set('caller', await identify(mode, keys, jwt, header));
    c.set('stillAuthorized', () =>
      identify(mode, keys, jwt, header).then(
        () => true,
        () => false,
      ),
    );
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
