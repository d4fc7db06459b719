// A token bucket per caller: per API key, or per client address when the call carries none. Over
// the limit the reply is 429 with Retry-After (whole seconds, as HTTP wants). In memory, per server
// process: several servers behind a balancer each allow the limit.
import type { MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { BatonError } from '@baton/core';
import type { ServerEnv } from './auth.js';

export interface RateLimit {
  /** Sustained calls per second per caller. */
  perSecond: number;
  /** Calls a caller may make at once after being idle (default 2 × perSecond). */
  burst?: number;
}

/** Buckets idle this long are forgotten, so that many one-off callers cannot grow the map for ever. */
const IDLE_MS = 60_000;

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private lastSweep = 0;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limit.perSecond > 0) || !Number.isFinite(limit.perSecond))
      throw new BatonError(
        'E_INVALID_OPTION',
        `a rate limit must be a positive number of calls per second, got ${limit.perSecond}`,
      );
    this.burst = limit.burst ?? 2 * limit.perSecond;
    if (!(this.burst >= 1))
      throw new BatonError('E_INVALID_OPTION', `a rate limit's burst must be at least 1, got ${this.burst}`);
  }

  /** Takes a token for `caller`: 0 when the call may go, else the milliseconds until one frees. */
  take(caller: string): number {
    const t = this.now();
    this.sweep(t);
    const b = this.buckets.get(caller) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.limit.perSecond);
    b.at = t;
    this.buckets.set(caller, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / this.limit.perSecond) * 1000;
  }

  /** The limit in words, for error messages. */
  describe(): string {
    return `${this.limit.perSecond} calls per second (bursts of ${this.burst})`;
  }

  private sweep(t: number): void {
    if (t - this.lastSweep < IDLE_MS) return;
    this.lastSweep = t;
    for (const [k, b] of this.buckets) if (t - b.at > IDLE_MS) this.buckets.delete(k);
  }
}

/** Refuses a caller over its rate with 429 and Retry-After. Runs after authentication. */
export function rateLimit(buckets: TokenBuckets): MiddlewareHandler<ServerEnv> {
  return async (c, next) => {
    const { keyId, subject } = c.get('caller');
    const caller =
      keyId !== undefined
        ? `key:${keyId}`
        : subject !== undefined
          ? `jwt:${subject}`
          : `ip:${getConnInfo(c).remote.address ?? 'unknown'}`;
    const waitMs = buckets.take(caller);
    if (waitMs > 0) {
      c.header('Retry-After', String(Math.max(1, Math.ceil(waitMs / 1000))));
      throw new BatonError(
        'E_RATE_LIMITED',
        `too many calls: this ${keyId !== undefined ? 'key' : subject !== undefined ? 'token subject' : 'address'} may make ${buckets.describe()}; retry after the Retry-After header's seconds`,
      );
    }
    return next();
  };
}
