// The circuit breaker: its state machine (pure), and the stored breaker a provider's failures open,
// shared by every Ai on the store, skipped while open and tried again once half-open.
import { Store } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietLogger } from '../../core/test/backends.js';
import {
  afterFailure,
  afterSuccess,
  breakerLimits,
  closedBreaker,
  phaseAt,
  type AiConfig,
  type BreakerState,
} from '../src/index.js';
import { startLlmServer } from './llm-servers.js';
import { openAi } from './ai-helpers.js';

const limits = breakerLimits({
  failure_threshold: 3,
  failure_window: 10,
  recovery_timeout: 5,
  success_threshold: 2,
  max_recovery_timeout: 12,
  backoff_multiplier: 2,
});

describe('breaker state machine', () => {
  it('opens after failure_threshold failures within failure_window, not when they are spread out', () => {
    let s: BreakerState = closedBreaker(limits);
    s = afterFailure(s, limits, 0);
    s = afterFailure(s, limits, 6_000);
    s = afterFailure(s, limits, 11_000); // the first has left the 10 s window
    expect(s.phase).toBe('closed');
    expect(s.failures).toEqual([6_000, 11_000]);
    s = afterFailure(s, limits, 12_000);
    expect(s.phase).toBe('open');
    expect(s.openedAt).toBe(12_000);
  });

  it('is half-open after recovery_timeout, closes after success_threshold successes, and backs off on a failed trial', () => {
    let s: BreakerState = closedBreaker(limits);
    for (const t of [0, 1, 2]) s = afterFailure(s, limits, t);
    expect(phaseAt(s, 4_999)).toBe('open');
    expect(phaseAt(s, 5_002)).toBe('half_open');
    // A failed trial: open again for recovery × 2.
    s = afterFailure(s, limits, 5_002);
    expect(s).toMatchObject({ phase: 'open', openedAt: 5_002, recoveryMs: 10_000 });
    expect(phaseAt(s, 15_001)).toBe('open');
    // Another failed trial: × 2 again, capped at max_recovery_timeout.
    s = afterFailure(s, limits, 15_002);
    expect(s.recoveryMs).toBe(12_000);
    s = afterSuccess(s, limits, 27_002);
    expect(s).toMatchObject({ phase: 'half_open', successes: 1 });
    s = afterSuccess(s, limits, 27_100);
    expect(s).toEqual(closedBreaker(limits));
  });

  it('ignores successes and failures that change nothing', () => {
    const s = closedBreaker(limits);
    expect(afterSuccess(s, limits, 1)).toBe(s);
    let open: BreakerState = s;
    for (const t of [0, 1, 2]) open = afterFailure(open, limits, t);
    expect(afterFailure(open, limits, 3)).toBe(open);
  });
});

describe('stored breakers', () => {
  let store: Store;
  beforeAll(async () => {
    store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
  });
  afterAll(() => store.close());

  it('open on failures seen by any Ai on the store, skip the provider, and let a trial through once half-open', async () => {
    const claude = await startLlmServer('anthropic', [{ status: 500 }]);
    const openai = await startLlmServer('openai', [{ text: 'openai' }]);
    try {
      const change = (c: AiConfig) => {
        const p = c.llm_providers!.providers!;
        Object.assign(p.claude, {
          endpoint: claude.url,
          max_retries: 0,
          circuit_breaker: {
            failure_threshold: 2,
            failure_window: 60,
            recovery_timeout: 1,
            success_threshold: 1,
          },
        });
        Object.assign(p.openai, { endpoint: openai.url, max_retries: 0 });
        c.llm_providers!.failover_order = ['claude', 'openai'];
      };
      // Two processes' worth of Ai over one store.
      const a = await openAi(change, { store });
      const b = await openAi(change, { store });
      await a.ai.generate({ prompt: 'x' });
      await b.ai.generate({ prompt: 'x' });
      expect(claude.requests).toHaveLength(2);
      const [view] = await a.ai.breakers.list();
      expect(view).toMatchObject({ provider: 'claude', phase: 'open' });
      // While open, claude is skipped without a request.
      const skipped = await a.ai.generate({ prompt: 'x' });
      expect(claude.requests).toHaveLength(2);
      expect(
        (skipped.providerMetadata?.baton as { attempts: { reason?: string }[] }).attempts[0].reason,
      ).toMatch(/circuit breaker open until/);
      // After recovery_timeout: one trial, which succeeds and closes it.
      claude.script.splice(0, Infinity, { text: 'claude is back' });
      await new Promise((r) => setTimeout(r, 1_100));
      expect((await b.ai.generate({ prompt: 'x' })).text).toBe('claude is back');
      expect(await a.ai.breakers.list()).toEqual([
        expect.objectContaining({ phase: 'closed', recentFailures: 0 }),
      ]);
    } finally {
      await Promise.all([claude.close(), openai.close()]);
    }
  });
});
