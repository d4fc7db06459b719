// The token bucket on its own, with a clock the test moves.
import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../src/rate-limit.js';

describe('TokenBuckets', () => {
  it('allows a burst, then one call per 1/rate seconds, per caller', () => {
    let t = 0;
    const b = new TokenBuckets({ perSecond: 2, burst: 3 }, () => t);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0]);
    expect(b.take('a')).toBeCloseTo(500);
    // Another caller has its own bucket.
    expect(b.take('b')).toBe(0);
    t = 499;
    expect(b.take('a')).toBeGreaterThan(0);
    t = 1000;
    expect(b.take('a')).toBe(0);
    // Idle callers refill only up to the burst.
    t = 60_000;
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0]);
    expect(b.take('a')).toBeGreaterThan(0);
  });

  it('refuses limits that cannot work', () => {
    expect(() => new TokenBuckets({ perSecond: 0 })).toThrow(/positive number of calls per second, got 0/);
    expect(() => new TokenBuckets({ perSecond: Number.NaN })).toThrow(/positive number/);
    expect(() => new TokenBuckets({ perSecond: 5, burst: 0.5 })).toThrow(/burst must be at least 1, got 0.5/);
  });
});
