// The server's defaults, in a module of their own: `baton server --help` shows them without loading
// the server (`@baton/server/defaults`).
import type { RateLimit } from './rate-limit.js';

export const DEFAULT_PORT = 8154;

/**
 * High enough that no person or dashboard meets it, low enough that a client stuck in a loop does
 * not take the database with it.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 500, burst: 1000 };
