// The embedded phase's writer: `node --import tsx embedded-child.ts <dataDir> [drain]`.
// Opens PGlite in <dataDir>, runs a worker, and keeps writing: it enqueues jobs, starts workflows,
// and reports on stdout what it knows is committed:
//   enq <id>…              enqueues acknowledged
//   done <id> <output>     executions it read back as completed (output as stored JSON text)
//   step <id> <seq> <out>  completed history entries it read back
// With `drain` it writes nothing new, waits until every execution has finished, and exits 0.
import { Client, Store, Worker, createLogger, defineJob, defineWorkflow } from '../../src/index.js';

const [dataDir, mode] = process.argv.slice(2);
const store = await Store.open({ dataDir, logger: createLogger(process.env.BATON_LOG ?? 'warn') });
await store.migrate();

const echo = defineJob('echo', { queue: 'emb' }, async (input: { v: number }) => ({
  v: input.v,
  pid: process.pid,
}));
const steps = defineWorkflow('steps', { queue: 'emb' }, async (ctx, input: { v: number }) => {
  const a = await ctx.step('a', () => input.v + 1);
  await ctx.sleep(20);
  const b = await ctx.step('b', () => a * 2);
  return { a, b };
});

const worker = new Worker(store, { jobs: [echo], workflows: [steps], concurrency: 8, pollInterval: 50 });
await worker.start();
const client = new Client(store);
const print = (line: string) => process.stdout.write(`${line}\n`);
print('ready');

const reported = new Set<string>();
async function reportCommitted(): Promise<void> {
  const done = await store.driver.query<{ id: string; output: string }>(
    `SELECT id, output::text AS output FROM baton.executions WHERE status = 'completed'`,
  );
  for (const d of done) {
    if (reported.has(d.id)) continue;
    reported.add(d.id);
    print(`done ${d.id} ${d.output}`);
  }
  const hist = await store.driver.query<{ id: string; seq: number; output: string }>(
    `SELECT execution_id AS id, seq, output::text AS output FROM baton.history WHERE status = 'completed'`,
  );
  for (const h of hist) {
    const key = `${h.id}#${h.seq}`;
    if (reported.has(key)) continue;
    reported.add(key);
    print(`step ${h.id} ${h.seq} ${h.output}`);
  }
}

if (mode === 'drain') {
  for (;;) {
    const [{ n }] = await store.driver.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM baton.executions WHERE status NOT IN ('completed', 'failed', 'cancelled')`,
    );
    if (n === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await worker.stop();
  await store.close();
  process.exit(0);
}

for (let i = 0; ; i++) {
  const batch = await client.enqueueMany(
    echo,
    Array.from({ length: 1 + (i % 10) }, (_, k) => ({ input: { v: i * 100 + k } })),
  );
  print(`enq ${batch.map((b) => b.id).join(' ')}`);
  if (i % 5 === 0) {
    const { id } = await client.start(steps, { v: i }, { id: `wf-${process.pid}-${i}` });
    print(`enq ${id}`);
  }
  if (i % 10 === 0) await reportCommitted();
  // A steady few hundred executions a second: enough writes in flight to be cut, few enough to drain fast.
  await new Promise((r) => setTimeout(r, 10));
}
