// LLM calls as durable steps: recorded once, replayed from the history with no request to the
// provider, a stream's parts published while they arrive and its finish only after the record.
import { Client, Store, Worker, defineWorkflow } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietLogger } from '../../core/test/backends.js';
import { Ai, STREAM_CHANNEL } from '../src/index.js';
import { fixtureConfig } from './ai-helpers.js';
import { startLlmServer, type LoopbackServer } from './llm-servers.js';

let store: Store;
let openai: LoopbackServer;
let ai: Ai;

beforeAll(async () => {
  store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
  await store.migrate();
  openai = await startLlmServer('openai', [
    { text: 'a plan', usage: { input: 20, output: 4 } },
    { text: 'step one then two', usage: { input: 30, output: 5 } },
  ]);
  const config = await fixtureConfig();
  Object.assign(config.llm_providers!.providers!.openai, { endpoint: openai.url, max_retries: 0 });
  config.llm_providers!.failover_order = ['openai'];
  ai = await Ai.open(store, config, { logger: quietLogger() });
});
afterAll(async () => {
  await openai.close();
  await store.close();
});

describe('durable LLM steps', () => {
  it('records generate and stream in the history and replays them without a request', async () => {
    const flow = defineWorkflow(
      'plan-and-write',
      { queue: 'ai-test' },
      async (ctx, input: { topic: string }) => {
        const plan = await ai.in(ctx).generate({ prompt: `plan ${input.topic}` });
        // A durable sleep: the run suspends, and the next run replays the generate above.
        await ctx.sleep(50);
        const s = ai.in(ctx).stream({ prompt: `write ${plan.text}` });
        let streamed = '';
        for await (const d of s.textStream) streamed += d;
        return { plan: plan.text, text: streamed, provider: (await s.providerMetadata)?.baton };
      },
    );
    const published: { part: { type: string; delta?: string } }[] = [];
    const stop = await store.driver.listen(STREAM_CHANNEL, (p) => published.push(JSON.parse(p)));
    const worker = new Worker(store, { workflows: [flow], pollInterval: 20 });
    await worker.start();
    try {
      const client = new Client(store);
      const { id } = await client.start(flow, { topic: 'caching' });
      const out = await client.result<{ plan: string; text: string; provider: { provider: string } }>(id, {
        timeout: '30s',
      });
      expect(out).toMatchObject({
        plan: 'a plan',
        text: 'step one then two',
        provider: { provider: 'openai' },
      });
      // One request per call, though the run replayed the generate after its sleep.
      expect(openai.requests).toHaveLength(2);
      const history = (await client.describe(id)).history;
      const steps = history.filter((h) => h.name.startsWith('ai.'));
      expect(steps.map((h) => h.name)).toEqual(['ai.generate', 'ai.stream']);
      expect(steps[0].output).toMatchObject({
        content: [{ type: 'text', text: 'a plan' }],
        finishReason: { unified: 'stop' },
      });
      // Each ledger row names the execution and the step that made it.
      const rows = await store.driver.query<{ execution_id: string; step: string; input_tokens: number }>(
        'SELECT execution_id, step, input_tokens FROM baton.ai_calls ORDER BY at',
      );
      expect(rows.map((r) => [r.execution_id, r.input_tokens])).toEqual([
        [id, 20],
        [id, 30],
      ]);
      expect(rows[0].step).toMatch(new RegExp(`^${id}:\\d+$`));
      // The stream's text was published while it arrived.
      const deltas = published.filter((e) => e.part.type === 'text-delta').map((e) => e.part.delta);
      expect(deltas.join('')).toBe('step one then two');
      expect(published.at(-1)?.part.type).toBe('finish');
    } finally {
      await worker.stop({ deadline: 2000 });
      await stop();
    }
  });
});
