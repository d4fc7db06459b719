// `npm run bench -- replay [--steps N]`: how long replaying a workflow with an N-step history takes.
// A workflow records N steps, then waits for a signal; the signal makes a worker claim it and replay
// all N steps from history before it can finish. Timed from the signal to the recorded completion,
// next to the same measurement for a workflow with no steps (the cost of the claim and completion).
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { intArg } from './_args.js';
import { watchLoad } from './_load.js';
import { Client, Store, Worker, createLogger, defineWorkflow } from '@baton/core';

const STEPS = intArg('steps', 10_000);
const load = watchLoad((msg) => console.log(msg));
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const admin = new pg.Client({ connectionString: BASE_URL });
await admin.connect();
const db = `bench_replay_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${db}`);
const url = new URL(BASE_URL);
url.pathname = `/${db}`;
let replays = 0;
const long = defineWorkflow('long-history', {}, async (ctx, n: number) => {
  replays++;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await ctx.step('add', () => i);
  await ctx.waitForSignal('go');
  return sum;
});
try {
  const store = await Store.open({ databaseUrl: url.toString(), logger: createLogger('warn') });
  await store.migrate();
  const worker = new Worker(store, { workflows: [long], pollInterval: 1000 });
  await worker.start();
  const client = new Client(store);

  /** Records a workflow of `n` steps, then returns how long the replay after the signal took. */
  async function measure(n: number): Promise<{ recordMs: number; replayMs: number }> {
    const t0 = performance.now();
    const { id } = await client.start(long, n);
    for (;;) {
      const e = await client.get(id);
      if (e.status === 'waiting') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const recordMs = performance.now() - t0;
    const before = replays;
    const t1 = performance.now();
    await client.signal(id, 'go');
    const done = await client.waitFor(id, { timeout: '10m' });
    const replayMs = done.finishedAt!.getTime() - (t1 + performance.timeOrigin);
    if (done.output !== (n * (n - 1)) / 2 || replays !== before + 1)
      throw new Error(`wrong result for ${n} steps`);
    return { recordMs, replayMs };
  }

  const empty = await measure(0);
  const full = await measure(STEPS);
  await worker.stop();
  await store.close();
  console.log(
    `PostgreSQL ${(await admin.query('SHOW server_version')).rows[0].server_version}, Node ${process.version}`,
  );
  console.log(
    `recording ${STEPS} steps (one at a time): ${full.recordMs.toFixed(0)} ms (${((STEPS / full.recordMs) * 1000).toFixed(0)} steps/s)`,
  );
  console.log(
    `replay after a signal: ${STEPS} steps ${full.replayMs.toFixed(0)} ms; 0 steps ${empty.replayMs.toFixed(0)} ms`,
  );
  console.log(
    JSON.stringify({
      suite: 'replay',
      ...load.end(),
      steps: STEPS,
      replay_ms: Math.round(full.replayMs),
      replay_ms_no_history: Math.round(empty.replayMs),
      replay_us_per_step: Number((((full.replayMs - empty.replayMs) / STEPS) * 1000).toFixed(1)),
      record_steps_per_s: Math.round((STEPS / full.recordMs) * 1000),
    }),
  );
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
}
