// `baton usage` and `baton ai breakers`: the real binary on an embedded store whose usage ledger
// and breakers this test filled.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, createLogger } from '@baton/core';
import { BreakerStore, UsageLedger, breakerLimits, migrateAi } from '@baton/ai';
import { beforeAll, describe, expect, it } from 'vitest';
import { baton } from './run-baton.js';

describe('baton usage and baton ai breakers (embedded PGlite)', () => {
  let g: string[];
  let empty: string[];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'baton-usage-cli-'));
    g = ['--data-dir', join(dir, 'db')];
    empty = ['--data-dir', join(dir, 'empty')];
    const store = await Store.open({
      dataDir: join(dir, 'db'),
      serve: false,
      logger: createLogger('silent'),
    });
    try {
      await store.migrate();
      await migrateAi(store.driver);
      const ledger = new UsageLedger(store.driver);
      const now = Date.now();
      const call = { at: now, latencyMs: 100, costSource: 'prices' as const };
      await ledger.record({
        ...call,
        provider: 'claude',
        model: 'claude-sonnet-4-5',
        outcome: 'ok',
        inputTokens: 1000,
        outputTokens: 200,
        cost: 0.006,
      });
      await ledger.record({
        ...call,
        provider: 'claude',
        model: 'claude-sonnet-4-5',
        outcome: 'ok',
        inputTokens: 500,
        outputTokens: 100,
        cost: 0.003,
      });
      await ledger.record({
        ...call,
        provider: 'openai',
        model: 'gpt-4-turbo',
        outcome: 'server_error',
        cost: null,
        costSource: 'unknown',
      });
      await ledger.record({
        ...call,
        provider: 'anythingllm',
        model: 'default',
        outcome: 'ok',
        inputTokens: 10,
        outputTokens: 5,
        cost: null,
        costSource: 'unknown',
      });
      // A call from 10 days ago: outside the default 7 days.
      await ledger.record({
        ...call,
        at: now - 10 * 86_400_000,
        provider: 'openai',
        model: 'gpt-4-turbo',
        outcome: 'ok',
        inputTokens: 9,
        outputTokens: 9,
        cost: 1,
      });
      const breakers = new BreakerStore(store.driver);
      const limits = breakerLimits({ failure_threshold: 1 });
      await breakers.record('openai', limits, 'failure', undefined);
    } finally {
      await store.close();
    }
  });

  it('groups the last 7 days by provider, with totals and unpriced calls called out', async () => {
    const r = await baton([...g, 'usage']);
    expect(r.code, r.stderr).toBe(0);
    const claude = r.stdout.split('\n').find((l) => l.startsWith('claude'));
    expect(claude).toMatch(/claude\s+2\s+0\s+1500\s+300\s+\d*\s+\$0\.0090/);
    expect(r.stdout).toMatch(/anythingllm\s+1\s+0\s+10\s+5.*\$0\.0000 \+ 1 unpriced/);
    expect(r.stdout).toMatch(/total\s+3\s+1\s+1510\s+305/);
    const json = JSON.parse(
      (await baton([...g, 'usage', '--by', 'model', '--since', '30d', '--json'])).stdout,
    );
    expect(json.by).toBe('model');
    expect(json.lines).toContainEqual(
      expect.objectContaining({ key: 'openai/gpt-4-turbo', requests: 1, failed: 1, cost: 1 }),
    );
  });

  it('refuses an unknown grouping and a bad duration, and says when nothing was recorded', async () => {
    const bad = await baton([...g, 'usage', '--by', 'colour']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--by colour: group by one of provider, model, day, workflow, task, use_case/);
    const since = await baton([...g, 'usage', '--since', 'soon']);
    expect(since.code).not.toBe(0);
    expect(since.stderr).toMatch(/--since/);
    expect((await baton([...empty, 'migrate'])).code).toBe(0);
    const none = await baton([...empty, 'usage']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/no LLM calls recorded in the last 7d/);
  });

  it('shows an open breaker and closes it on reset', async () => {
    const open = await baton([...g, 'ai', 'breakers']);
    expect(open.stdout).toMatch(/openai\s+open\s+0\s+\d{4}-\d\d-\d\dT/);
    expect((await baton([...g, 'ai', 'breakers', 'reset', 'openai'])).code).toBe(0);
    expect((await baton([...g, 'ai', 'breakers'])).stdout).toMatch(/every breaker is closed/);
  });
});
