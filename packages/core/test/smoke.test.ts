import { describe, it, expect } from 'vitest';
import { backends } from './backends.js';
import { Client, Worker, defineJob } from '../src/index.js';

for (const b of backends()) {
  describe(`smoke (${b.name})`, () => {
    it('runs a job end to end', async () => {
      const store = await b.open();
      const seen: number[] = [];
      const add = defineJob('add', {}, async (input: { a: number; b: number }) => {
        seen.push(input.a + input.b);
        return { sum: input.a + input.b };
      });
      const worker = new Worker(store, { jobs: [add] });
      await worker.start();
      const client = new Client(store);
      const { id } = await client.enqueue(add, { a: 1, b: 2 });
      expect(await client.result(id)).toEqual({ sum: 3 });
      const many = await client.enqueueMany(
        add,
        Array.from({ length: 100 }, (_, i) => ({ input: { a: i, b: 1 } })),
      );
      for (const m of many) await client.waitFor(m.id);
      expect(seen.length).toBe(101);
      await worker.stop();
      await store.close();
    });
  });
}
