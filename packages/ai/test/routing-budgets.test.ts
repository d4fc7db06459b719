// Use-case routing from llm_failover_policy.yaml, cost caps, budgets and prices, against loopback
// servers; unknown names with a did-you-mean.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveRoute, type AiConfig, type BudgetAlert } from '../src/index.js';
import { fixtureConfig, openAi } from './ai-helpers.js';
import { sharedStore } from './shared-store.js';
import { startLlmServer, type LoopbackServer } from './llm-servers.js';

const db = sharedStore();

let servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** Every provider of the fixture on a loopback server of its protocol (ollama and anythingllm speak OpenAI's). */
async function allOnLoopback(c: AiConfig): Promise<Record<string, LoopbackServer>> {
  const out: Record<string, LoopbackServer> = {};
  for (const [name, p] of Object.entries(c.llm_providers!.providers!)) {
    if (name === 'gemini') continue;
    const protocol = name === 'claude' ? 'anthropic' : 'openai';
    const s = await startLlmServer(protocol, [{ text: `from ${name}` }]);
    servers.push(s);
    out[name] = s;
    p.endpoint = s.url;
    p.max_retries = 0;
    if (name === 'ollama' || name === 'anythingllm') p.type = 'openai-compatible';
  }
  c.llm_providers!.providers!.gemini.enabled = false;
  return out;
}

describe('routing', () => {
  it('picks the use case from the task type and uses its preferred order and settings', async () => {
    const config = await fixtureConfig();
    expect(resolveRoute(config, { taskType: 'refactor the parser' })).toMatchObject({
      useCase: 'code_generation',
      order: ['claude', 'openai', 'ollama'],
      settings: { temperature: 0.7, max_tokens: 4096 },
      maxCostPerRequest: 0.1,
    });
    expect(resolveRoute(config, { taskType: 'Review this diff' }).useCase).toBe('code_analysis');
    expect(resolveRoute(config, { taskType: 'write a poem' })).toMatchObject({
      useCase: null,
      order: ['claude', 'ollama', 'openai'],
      reason: expect.stringMatching(/matched no rule/),
    });
  });

  it("sends a task type's call with its use case's settings, in its preferred order", async () => {
    const config = await fixtureConfig();
    const s = await allOnLoopback(config);
    const t = await openAi(config, { store: db.store });
    const r = await t.ai.generate({ taskType: 'implement the cache', prompt: 'x' });
    expect(r.text).toBe('from claude');
    expect(s.claude.requests[0]).toMatchObject({ temperature: 0.7, max_tokens: 4096 });
    const analysis = await t.ai.generate({ taskType: 'review this diff', prompt: 'x' });
    expect(analysis.text).toBe('from ollama');
    expect(s.ollama.requests[0]).toMatchObject({ temperature: 0.3, max_tokens: 2048 });
    const [row] = await db.store.driver.query<{ use_case: string; task_type: string }>(
      "SELECT use_case, task_type FROM baton.ai_calls WHERE provider = 'claude'",
    );
    expect(row.use_case).toBe('code_generation');
  });

  it('never moves to a provider whose estimate passes max_cost_per_request', async () => {
    const config = await fixtureConfig();
    const s = await allOnLoopback(config);
    s.ollama.script.splice(0, Infinity, { status: 500 });
    const t = await openAi(config, { store: db.store });
    // web_automation: ollama, claude, openai; at most $0.02; 2,048 output tokens.
    const err = await t.ai.generate({ useCase: 'web_automation', prompt: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_LLM_UNAVAILABLE' });
    expect((err as Error).message).toMatch(
      /claude: estimated \$0\.03\d+ exceeds max_cost_per_request \$0\.0200/,
    );
    expect((err as Error).message).toMatch(/openai: estimated \$0\.06\d+ exceeds max_cost_per_request/);
    expect(s.claude.requests).toHaveLength(0);
    expect(s.openai.requests).toHaveLength(0);
  });

  it('names unknown providers and use cases with a did-you-mean', async () => {
    const config = await fixtureConfig();
    expect(() => resolveRoute(config, { useCase: 'code_generaton' })).toThrow(
      /unknown use case 'code_generaton' \(did you mean 'code_generation'\?\)/,
    );
    expect(() => resolveRoute(config, { provider: 'claud' })).toThrow(
      /unknown provider 'claud' \(did you mean 'claude'\?\)/,
    );
    expect(() => resolveRoute(config, { model: 'gpt-4' })).toThrow(/needs a provider/);
  });
});

describe('budgets and prices', () => {
  it('refuses the call past daily_request_limit with E_BUDGET_EXCEEDED, and alerts once at the threshold', async () => {
    const config = await fixtureConfig();
    await allOnLoopback(config);
    config.llm_providers!.budget = { enabled: true, daily_request_limit: 2, alert_threshold: 0.5 };
    const alerts: BudgetAlert[] = [];
    const t = await openAi(config, { store: db.store, alerts: (a) => void alerts.push(a) });
    await t.ai.generate({ prompt: 'x' });
    await t.ai.generate({ prompt: 'x' });
    const err = await t.ai.generate({ prompt: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'E_BUDGET_EXCEEDED',
      message: expect.stringMatching(
        /daily request limit of 2 is reached \(2 requests today\).*daily_request_limit/,
      ),
      details: { limit: 'daily_request_limit', spent: 2 },
    });
    expect(alerts).toEqual([
      expect.objectContaining({ limit: 'daily_request_limit', spent: 1, limitValue: 2 }),
    ]);
  });

  it('refuses a call whose estimate would pass daily_cost_limit, naming the spend', async () => {
    const config = await fixtureConfig();
    const s = await allOnLoopback(config);
    s.claude.script.splice(0, Infinity, { text: 'x', usage: { input: 1200, output: 300 } });
    config.llm_providers!.budget = { enabled: true, daily_cost_limit: 0.01 };
    const t = await openAi(config, { store: db.store });
    await t.ai.generate({ prompt: 'x', maxOutputTokens: 10 });
    const err = await t.ai.generate({ prompt: 'x', maxOutputTokens: 200 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_BUDGET_EXCEEDED' });
    expect((err as Error).message).toMatch(/today's spend of \$0\.0081 past the daily cost limit of \$0\.01/);
    expect(s.claude.requests).toHaveLength(1);
  });

  it('prices from the table, else from the file, else records the call with an unknown cost', async () => {
    const config = await fixtureConfig();
    const s = await allOnLoopback(config);
    const p = config.llm_providers!.providers!;
    delete p.anythingllm.cost_per_1k_prompt;
    delete p.anythingllm.cost_per_1k_completion;
    s.anythingllm.script.splice(0, Infinity, { text: 'x', usage: { input: 100, output: 50 } });
    const t = await openAi(config, { store: db.store });
    const free = await t.ai.generate({ provider: 'ollama', prompt: 'x' });
    expect(free.providerMetadata?.baton).toMatchObject({ cost: 0, costSource: 'config' });
    const unknown = await t.ai.generate({ provider: 'anythingllm', prompt: 'x' });
    expect(unknown.providerMetadata?.baton).toMatchObject({ cost: null, costSource: 'unknown' });
    const lines = await t.ai.usage.report('provider', 0);
    expect(lines.find((l) => l.key === 'anythingllm')).toMatchObject({
      requests: 1,
      unpriced: 1,
      cost: 0,
      inputTokens: 100,
    });
  });
});
