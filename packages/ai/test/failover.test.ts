// Failover, retries, timeouts and the usage ledger, against loopback servers speaking OpenAI's and
// Anthropic's protocols, with the real llm_providers.yaml.
import { afterEach, describe, expect, it } from 'vitest';
import { startLlmServer, type LoopbackServer } from './llm-servers.js';
import { openAi, type TestAi } from './ai-helpers.js';
import { sharedStore } from './shared-store.js';
import type { AiConfig } from '../src/index.js';

const db = sharedStore();

let servers: LoopbackServer[] = [];
let t: TestAi | undefined;

afterEach(async () => {
  t = undefined;
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function serve(protocol: 'openai' | 'anthropic', script: Parameters<typeof startLlmServer>[1]) {
  const s = await startLlmServer(protocol, script);
  servers.push(s);
  return s;
}

/** claude and openai on loopback servers, in that order; the other providers out of the way. */
function twoProviders(
  claude: LoopbackServer,
  openai: LoopbackServer,
  extra: (c: AiConfig) => void = () => {},
) {
  return (c: AiConfig) => {
    const p = c.llm_providers!.providers!;
    p.claude.endpoint = claude.url;
    p.openai.endpoint = openai.url;
    for (const name of ['claude', 'openai']) Object.assign(p[name], { timeout: 2, max_retries: 0 });
    c.llm_providers!.failover_order = ['claude', 'openai'];
    extra(c);
  };
}

describe('providers from llm_providers.yaml', () => {
  it('calls the first provider of failover_order and records the call with its tokens and cost', async () => {
    const claude = await serve('anthropic', [
      { text: 'hi from claude', usage: { input: 1200, output: 300 } },
    ]);
    const openai = await serve('openai', [{ text: 'hi from openai' }]);
    t = await openAi(twoProviders(claude, openai), { store: db.store });
    const r = await t.ai.generate({ prompt: 'say hi' });
    expect(r.text).toBe('hi from claude');
    expect(claude.requests).toHaveLength(1);
    expect(openai.requests).toHaveLength(0);
    // The model is the file's, with ${CLAUDE_MODEL:-…} expanded to its default.
    expect(claude.requests[0].model).toBe('claude-sonnet-4-5-20250929');
    const report = r.providerMetadata?.baton as { provider: string; cost: number; costSource: string };
    expect(report.provider).toBe('claude');
    // genai-prices: Sonnet 4.5 at $3 / $15 per million.
    expect(report.costSource).toBe('prices');
    expect(report.cost).toBeCloseTo((1200 * 3 + 300 * 15) / 1e6, 10);
    const [line] = await t.ai.usage.report('provider', 0);
    expect(line).toMatchObject({
      key: 'claude',
      requests: 1,
      failed: 0,
      inputTokens: 1200,
      outputTokens: 300,
    });
  });

  it('fails over on 500 and on 429, retries on the same provider when Retry-After allows, and never on a 400', async () => {
    const claude = await serve('anthropic', [{ status: 500 }]);
    const openai = await serve('openai', [{ text: 'from openai' }]);
    t = await openAi(twoProviders(claude, openai), { store: db.store });
    const r = await t.ai.generate({ prompt: 'x' });
    expect(r.text).toBe('from openai');
    const report = r.providerMetadata?.baton as {
      attempts: { provider: string; outcome: string; reason?: string }[];
    };
    expect(report.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
      'claude:failed',
      'openai:served',
    ]);
    expect(report.attempts[0].reason).toMatch(/server error \(500\)/);

    // 429 with a Retry-After of 0.2 s: retried on claude, which then answers.
    claude.script.splice(
      0,
      Infinity,
      { status: 429, headers: { 'retry-after': '0.2' } },
      { text: 'claude again' },
    );
    claude.requests.length = 0;
    t.config.llm_providers!.providers!.claude.max_retries = 1;
    const started = Date.now();
    const again = await t.ai.generate({ prompt: 'x' });
    expect(again.text).toBe('claude again');
    expect(claude.requests).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);

    // A 400 is the request's fault: no failover, a clear error.
    claude.script.splice(0, Infinity, { status: 400 });
    openai.requests.length = 0;
    await expect(t.ai.generate({ prompt: 'x' })).rejects.toMatchObject({
      code: 'E_LLM_REQUEST',
      message: expect.stringMatching(/request refused \(400\)/),
    });
    expect(openai.requests).toHaveLength(0);
  });

  it('fails over at once when a provider refuses the key, the account or the model (401, 402, 403, 404)', async () => {
    const claude = await serve('anthropic', [{ status: 401 }]);
    const openai = await serve('openai', [{ text: 'openai' }]);
    t = await openAi(
      twoProviders(claude, openai, (c) => {
        c.llm_providers!.providers!.claude.max_retries = 3;
      }),
      { store: db.store },
    );
    for (const status of [401, 402, 403, 404]) {
      claude.script.splice(0, Infinity, { status });
      claude.requests.length = 0;
      const r = await t.ai.generate({ prompt: 'x' });
      expect(r.text).toBe('openai');
      // Not retried on the provider that refused.
      expect(claude.requests).toHaveLength(1);
      expect((r.providerMetadata?.baton as { attempts: { reason?: string }[] }).attempts[0].reason).toMatch(
        new RegExp(`refused by the provider \\(${status}: key, account or model\\)`),
      );
    }
  });

  it('fails over when Retry-After is longer than retry_max_delay', async () => {
    const claude = await serve('anthropic', [{ status: 429, headers: { 'retry-after': '120' } }]);
    const openai = await serve('openai', [{ text: 'openai' }]);
    t = await openAi(
      twoProviders(claude, openai, (c) => {
        c.llm_providers!.providers!.claude.max_retries = 3;
      }),
      { store: db.store },
    );
    const started = Date.now();
    expect((await t.ai.generate({ prompt: 'x' })).text).toBe('openai');
    expect(claude.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails over on a slow first byte past the timeout, on a refused connection and on a reply that is not JSON', async () => {
    const claude = await serve('anthropic', [{ hangMs: 3000 }]);
    const openai = await serve('openai', [{ text: 'openai' }]);
    t = await openAi(
      twoProviders(claude, openai, (c) => {
        c.llm_providers!.providers!.claude.timeout = 1;
      }),
      { store: db.store },
    );
    const r = await t.ai.generate({ prompt: 'x' });
    expect(r.text).toBe('openai');
    expect((r.providerMetadata?.baton as { attempts: { reason?: string }[] }).attempts[0].reason).toMatch(
      /^timeout/,
    );

    claude.script.splice(0, Infinity, { notJson: true });
    const bad = await t.ai.generate({ prompt: 'x' });
    expect((bad.providerMetadata?.baton as { attempts: { reason?: string }[] }).attempts[0].reason).toMatch(
      /^bad response/,
    );

    t.config.llm_providers!.providers!.claude.endpoint = 'http://127.0.0.1:9'; // nothing listens
    const refused = await t.ai.generate({ prompt: 'x' });
    expect(
      (refused.providerMetadata?.baton as { attempts: { reason?: string }[] }).attempts[0].reason,
    ).toMatch(/^connection/);
    const failures = await t.ai.usage.report('provider', 0);
    expect(failures.find((l) => l.key === 'claude')).toMatchObject({ requests: 0, failed: 3 });
  });

  it('says which providers were skipped and why when none can serve', async () => {
    const claude = await serve('anthropic', [{ status: 503 }]);
    const openai = await serve('openai', [{ status: 502 }]);
    t = await openAi(
      twoProviders(claude, openai, (c) => {
        const p = c.llm_providers!.providers!;
        c.llm_providers!.failover_order = ['claude', 'ollama', 'gemini', 'openai'];
        p.ollama.enabled = false;
        p.gemini.api_key = null;
        c.apiKeyVariables = { gemini: 'GEMINI_API_KEY' };
      }),
      { store: db.store },
    );
    const err = await t.ai.generate({ prompt: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_LLM_UNAVAILABLE' });
    const message = (err as Error).message;
    expect(message).toMatch(/claude: server error \(503\)/);
    expect(message).toMatch(/ollama: disabled/);
    expect(message).toMatch(/gemini: no API key: set GEMINI_API_KEY/);
    expect(message).toMatch(/openai: server error \(502\)/);
    // The key's value never appears in an error.
    expect(message).not.toMatch(/sk-/);
  });

  it('streams with failover before the first byte, and records the usage at the end of the stream', async () => {
    const claude = await serve('anthropic', [{ status: 500 }]);
    const openai = await serve('openai', [{ text: 'one two three', usage: { input: 7, output: 3 } }]);
    t = await openAi(twoProviders(claude, openai), { store: db.store });
    const r = t.ai.stream({ prompt: 'count' });
    const deltas: string[] = [];
    for await (const d of r.textStream) deltas.push(d);
    expect(deltas.join('')).toBe('one two three');
    expect(deltas.length).toBeGreaterThan(1);
    expect((await r.providerMetadata)?.baton).toMatchObject({ provider: 'openai' });
    const lines = await t.ai.usage.report('provider', 0);
    expect(lines.find((l) => l.key === 'openai')).toMatchObject({
      requests: 1,
      inputTokens: 7,
      outputTokens: 3,
    });
  });

  it('records a stream that breaks mid-way as a connection failure, once', async () => {
    const claude = await serve('anthropic', [{ disconnectAfter: 'partial ' }]);
    const openai = await serve('openai', [{ text: 'unused' }]);
    t = await openAi(twoProviders(claude, openai), { store: db.store });
    const r = t.ai.stream({ prompt: 'x', onError: () => undefined });
    let text = '';
    // The caller sees the text that came, then the error: a broken stream is not passed off as whole.
    await expect(
      (async () => {
        for await (const d of r.textStream) text += d;
      })(),
    ).rejects.toThrow(/Failed to process successful response/);
    expect(text).toBe('partial ');
    const lines = await t.ai.usage.report('provider', 0);
    expect(lines.find((l) => l.key === 'claude')).toMatchObject({ requests: 0, failed: 1 });
    const [row] = await t.store.driver.query<{ outcome: string }>(
      "SELECT outcome FROM baton.ai_calls WHERE provider = 'claude'",
    );
    expect(row.outcome).toBe('connection');
    expect(openai.requests).toHaveLength(0);
  });
});
