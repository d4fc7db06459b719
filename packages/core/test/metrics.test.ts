// Prometheus metrics of a worker: attempts by outcome, durations, queue depth read when scraped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from './backends.js';
import {
  Client,
  NonRetryableError,
  Worker,
  WorkerMetrics,
  defineJob,
  defineWorkflow,
  type Store,
} from '../src/index.js';

for (const b of backends()) {
  describe(`worker metrics (${b.name})`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await b.open();
    });
    afterAll(async () => {
      await store.close();
    });

    it('counts attempts by outcome and kind, observes durations, and reads queue depth when scraped', async () => {
      const ok = defineJob('m-ok', { queue: 'm' }, async () => 'fine');
      const flaky = defineJob(
        'm-flaky',
        { queue: 'm', retry: { maxAttempts: 2, baseDelay: '10ms', jitter: 'none' } },
        async (_: null, ctx) => {
          if (ctx.attempt === 1) throw new Error('first attempt fails');
          return 'second';
        },
      );
      const bad = defineJob('m-bad', { queue: 'm' }, async () => {
        throw new NonRetryableError('never');
      });
      const wf = defineWorkflow('m-flow', { queue: 'm' }, async (ctx) => ctx.step('s', () => 1));
      const unserved = defineJob('m-unserved', { queue: 'm-later' }, async () => null);
      const client = new Client(store);
      await client.enqueue(unserved, null);
      await client.enqueue(unserved, null);
      const metrics = new WorkerMetrics(store.driver);
      const worker = new Worker(store, {
        jobs: [ok, flaky, bad],
        workflows: [wf],
        metrics,
        pollInterval: 20,
      });
      await worker.start();
      try {
        const ids = [
          (await client.enqueue(ok, null)).id,
          (await client.enqueue(flaky, null)).id,
          (await client.enqueue(bad, null)).id,
          (await client.start(wf, null)).id,
        ];
        for (const id of ids) await client.waitFor(id, { timeout: '10s' });
      } finally {
        await worker.stop({ deadline: 2000 });
      }
      const text = await metrics.text();
      const value = (line: string) =>
        Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value('baton_attempts_total{kind="job",name="m-ok",queue="m",outcome="completed"}')).toBe(1);
      expect(value('baton_attempts_total{kind="job",name="m-flaky",queue="m",outcome="retry"}')).toBe(1);
      expect(value('baton_attempts_total{kind="job",name="m-flaky",queue="m",outcome="completed"}')).toBe(1);
      expect(value('baton_attempts_total{kind="job",name="m-bad",queue="m",outcome="failed"}')).toBe(1);
      expect(value('baton_attempts_total{kind="workflow",name="m-flow",queue="m",outcome="completed"}')).toBe(
        1,
      );
      expect(value('baton_attempt_duration_seconds_count{kind="job",name="m-flaky"}')).toBe(2);
      expect(value('baton_queue_depth{queue="m-later",status="queued"}')).toBe(2);
      expect(value('baton_worker_running')).toBe(0);
      expect(text).toMatch(/^# TYPE baton_lease_recoveries_total counter$/m);
    });
  });
}
