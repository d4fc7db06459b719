// Every wire protocol Baton speaks (OpenAI chat completions and Responses, Anthropic, Gemini, Ollama), against a loopback server of that protocol: text, streams, tool
// calls, usage, 429 with Retry-After, 500, a slow first byte and a disconnect mid-stream.
import { afterEach, describe, expect, it } from 'vitest';
import { jsonSchema } from 'ai';
import type { AiConfig } from '../src/index.js';
import { fixtureConfig, openAi } from './ai-helpers.js';
import { sharedStore } from './shared-store.js';
import { startLlmServer, type LoopbackServer, type Protocol, type Reply } from './llm-servers.js';

const db = sharedStore();

let servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** The fixture's provider of each protocol: Claude, OpenAI (both APIs), Gemini, Ollama (its own /api/chat). */
const PROVIDER: Record<Protocol, string> = {
  anthropic: 'claude',
  openai: 'openai',
  'openai-responses': 'openai',
  gemini: 'gemini',
  ollama: 'ollama',
};

/** Where each protocol's requests go. */
const PATH: Record<Protocol, RegExp> = {
  openai: /^\/v1\/chat\/completions$/,
  'openai-responses': /^\/v1\/responses$/,
  anthropic: /^\/v1\/messages$/,
  gemini: /^\/v1beta\/models\/gemini-2\.0-flash-exp:(stream)?[gG]enerateContent/,
  ollama: /^\/api\/chat$/,
};

/** The provider of `protocol` on a loopback server first, a backup provider second. */
async function setup(protocol: Protocol, script: Reply[]) {
  const primary = await startLlmServer(protocol, script);
  // The backup is another provider: Claude for the OpenAI protocols, OpenAI for the rest.
  const backupIsClaude = PROVIDER[protocol] === 'openai';
  const backup = await startLlmServer(backupIsClaude ? 'anthropic' : 'openai', [{ text: 'from the backup' }]);
  servers.push(primary, backup);
  const config: AiConfig = await fixtureConfig();
  const p = config.llm_providers!.providers!;
  const name = PROVIDER[protocol];
  const backupName = backupIsClaude ? 'claude' : 'openai';
  Object.assign(p[name], { endpoint: primary.url, max_retries: 1, timeout: 1 });
  if (protocol === 'openai-responses') p[name].type = 'openai-responses';
  Object.assign(p[backupName], { endpoint: backup.url, max_retries: 0 });
  config.llm_providers!.failover_order = [name, backupName];
  const t = await openAi(config, { store: db.store });
  return { ai: t.ai, primary, backup, name };
}

const usageOf = async (provider: string) =>
  await db.store.driver.query<{
    outcome: string;
    input_tokens: number | null;
    output_tokens: number | null;
    cost_source: string;
  }>(
    'SELECT outcome, input_tokens, output_tokens, cost_source FROM baton.ai_calls WHERE provider = $1 ORDER BY at',
    [provider],
  );

describe.each(['openai', 'openai-responses', 'anthropic', 'gemini', 'ollama'] as Protocol[])(
  '%s wire protocol',
  (protocol) => {
    it('generates text and records the usage the provider reports', async () => {
      const { ai, primary, name } = await setup(protocol, [
        { text: 'hello there', usage: { input: 21, output: 4 } },
      ]);
      const r = await ai.generate({ prompt: 'hi' });
      expect(r.text).toBe('hello there');
      expect(primary.requests).toHaveLength(1);
      expect(primary.paths[0]).toMatch(PATH[protocol]);
      expect(await usageOf(name)).toEqual([
        expect.objectContaining({ outcome: 'ok', input_tokens: 21, output_tokens: 4 }),
      ]);
    });

    it('streams text in several parts and records the usage at the end', async () => {
      const { ai, name } = await setup(protocol, [
        { text: 'one two three four', usage: { input: 9, output: 4 } },
      ]);
      const s = ai.stream({ prompt: 'count' });
      const parts: string[] = [];
      for await (const d of s.textStream) parts.push(d);
      expect(parts.join('')).toBe('one two three four');
      expect(parts.length).toBeGreaterThan(1);
      expect(await usageOf(name)).toEqual([
        expect.objectContaining({ outcome: 'ok', input_tokens: 9, output_tokens: 4 }),
      ]);
    });

    it('returns tool calls with their arguments', async () => {
      const { ai } = await setup(protocol, [
        { tool: { id: 'call-1', name: 'lookup', args: { city: 'Oslo' } } },
      ]);
      const r = await ai.generate({
        prompt: 'weather?',
        tools: {
          lookup: {
            description: 'weather',
            inputSchema: jsonSchema({ type: 'object', properties: { city: { type: 'string' } } }),
          },
        },
      });
      expect(r.toolCalls).toEqual([expect.objectContaining({ toolName: 'lookup', input: { city: 'Oslo' } })]);
    });

    it('retries after a 429 with Retry-After, and fails over after a 500', async () => {
      const { ai, primary, backup } = await setup(protocol, [
        { status: 429, headers: { 'retry-after': '0.1' } },
        { text: 'after the wait' },
      ]);
      expect((await ai.generate({ prompt: 'x' })).text).toBe('after the wait');
      expect(primary.requests).toHaveLength(2);
      primary.script.splice(0, Infinity, { status: 500 });
      const r = await ai.generate({ prompt: 'x' });
      expect(r.text).toBe('from the backup');
      expect(backup.requests).toHaveLength(1);
    });

    it('fails over on a first byte slower than the timeout', async () => {
      const { ai } = await setup(protocol, [{ hangMs: 3_000 }]);
      const r = await ai.generate({ prompt: 'x' });
      expect(r.text).toBe('from the backup');
      expect((r.providerMetadata?.baton as { attempts: { reason?: string }[] }).attempts[0].reason).toMatch(
        /^timeout/,
      );
    });

    it('records a stream that drops mid-way as a connection failure', async () => {
      const { ai, name } = await setup(protocol, [{ disconnectAfter: 'partial answer ' }]);
      const s = ai.stream({ prompt: 'x', onError: () => undefined });
      let text = '';
      await expect(
        (async () => {
          for await (const d of s.textStream) text += d;
        })(),
      ).rejects.toThrow();
      expect(text).toBe('partial answer ');
      expect((await usageOf(name)).map((u) => u.outcome)).toEqual(['connection']);
    });
  },
);
