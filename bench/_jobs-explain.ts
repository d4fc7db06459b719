// Where Baton's claim and completion time goes, statement by statement, without a worker:
//   node --import tsx bench/_jobs-explain.ts [--jobs N] [--batch N] [--quiet] [--alter 'SQL']
// Enqueues N jobs into a fresh database, then replays what the high-throughput worker does (claim a
// batch, complete it in one statement) from one connection, timing each statement on the server with
// EXPLAIN (ANALYZE, BUFFERS) for a few sampled rounds and by wall clock for the others.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Client, Store, createLogger, defineJob } from '../packages/core/src/index.js';

function intArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}
const JOBS = intArg('jobs', 50_000);
const BATCH = intArg('batch', 260);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// The statements as the worker sends them (packages/core/src/sql/claim.ts and finish.ts).
const CLAIM = `WITH picked AS (
    SELECT id FROM baton.executions
    WHERE status = 'queued' AND queue = $1::text
      AND run_at <= now() AND concurrency_key IS NULL AND name = ANY($2::text[])
    ORDER BY priority DESC, run_at, id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
  )
  UPDATE baton.executions e
  SET status = 'running', attempts = e.attempts + 1, lease_owner = $4, started_at = now()
  FROM picked WHERE e.id = picked.id
  RETURNING e.id, e.name, e.queue, e.priority, e.input, e.attempts, e.max_attempts`;
const COMPLETE = `UPDATE baton.executions e
  SET status = 'completed', output = c.output::jsonb, finished_at = now()
  FROM unnest($1::text[], $2::int[], $3::text[]) AS c(id, attempt, output)
  WHERE e.id = c.id AND e.attempts = c.attempt AND e.lease_owner = $4 AND e.status = 'running'
  RETURNING e.id`;

const admin = new pg.Pool({ connectionString: BASE_URL, max: 1 });
const db = `bench_explain_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${db}`);
const url = new URL(BASE_URL);
url.pathname = `/${db}`;
try {
  const store = await Store.open({ databaseUrl: url.toString(), logger: createLogger('warn') });
  await store.migrate();
  const noop = defineJob('noop', {}, async () => undefined);
  const client = new Client(store);
  for (let from = 0; from < JOBS; from += 5000) {
    await client.enqueueMany(
      noop,
      Array.from({ length: Math.min(5000, JOBS - from) }, (_, k) => ({ input: { i: from + k } })),
    );
  }
  await store.close();

  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  // --alter 'SQL' tries a schema change before the replay (e.g. dropping an index) to see what it saves.
  const alter = process.argv.indexOf('--alter');
  if (alter >= 0) await c.query(process.argv[alter + 1]);
  await c.query('VACUUM ANALYZE');
  const worker = 'explain-worker';
  const rounds = Math.ceil(JOBS / BATCH);
  const sample = new Set([0, 1, Math.floor(rounds / 2), rounds - 2]);
  let claimMs = 0;
  let completeMs = 0;
  for (let r = 0; r < rounds; r++) {
    const explain = !process.argv.includes('--quiet') && sample.has(r);
    const params = ['default', ['noop'], BATCH, worker];
    let t = performance.now();
    let ids: string[];
    if (explain) {
      // EXPLAIN ANALYZE executes the statement; RETURNING rows are not returned, so read them back.
      const plan = await c.query({ text: `EXPLAIN (ANALYZE, BUFFERS) ${CLAIM}`, values: params });
      claimMs += performance.now() - t;
      console.log(`--- claim, round ${r}\n${plan.rows.map((x) => x['QUERY PLAN']).join('\n')}`);
      ids = (
        await c.query<{ id: string }>(
          `SELECT id FROM baton.executions WHERE status = 'running' AND lease_owner = $1`,
          [worker],
        )
      ).rows.map((x) => x.id);
    } else {
      ids = (await c.query<{ id: string }>({ name: 'claim', text: CLAIM, values: params })).rows.map(
        (x) => x.id,
      );
      claimMs += performance.now() - t;
    }
    const cparams = [ids, ids.map(() => 1), ids.map(() => 'null'), worker];
    t = performance.now();
    if (explain) {
      const plan = await c.query({ text: `EXPLAIN (ANALYZE, BUFFERS) ${COMPLETE}`, values: cparams });
      console.log(`--- complete, round ${r}\n${plan.rows.map((x) => x['QUERY PLAN']).join('\n')}`);
    } else {
      await c.query({ name: 'complete', text: COMPLETE, values: cparams });
    }
    completeMs += performance.now() - t;
  }
  console.log(
    `${rounds} rounds of ${BATCH}: claim ${claimMs.toFixed(0)} ms (${(claimMs / rounds).toFixed(2)} ms each), ` +
      `complete ${completeMs.toFixed(0)} ms (${(completeMs / rounds).toFixed(2)} ms each), ` +
      `${(((claimMs + completeMs) / JOBS) * 1000).toFixed(1)} µs per job serial`,
  );
  await c.end();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
}
