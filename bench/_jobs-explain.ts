// Where Baton's claim and completion time goes, statement by statement, without a worker:
//   node --import tsx bench/_jobs-explain.ts [--jobs N] [--batch N] [--quiet] [--alter 'SQL']
// Enqueues N jobs into a fresh database, then replays what the high-throughput worker does (claim a
// batch, complete it in one statement) from one connection, calling the engine's own statement
// functions. A few sampled rounds run under EXPLAIN (ANALYZE, BUFFERS); the others are timed by wall
// clock. It also reports the WAL written per job.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { intArg } from './_args.js';
import { Client, Store, createLogger, defineJob, type Queryable } from '../packages/core/src/index.js';
import { claimUnlimited } from '../packages/core/src/sql/claim.js';
import { completeMany } from '../packages/core/src/sql/finish.js';
import { registerWorker } from '../packages/core/src/sql/workers.js';

const JOBS = intArg('jobs', 50_000);
const BATCH = intArg('batch', 260);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Runs statements on one client; with `explain` set, each statement first runs under EXPLAIN
 * ANALYZE in a transaction that is rolled back (its plan is printed), then for real, so the
 * callers get their rows.
 */
class Explaining implements Queryable {
  explain = false;
  constructor(private readonly c: pg.Client) {}
  async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    if (this.explain) {
      await this.c.query('BEGIN');
      const plan = await this.c.query({
        text: `EXPLAIN (ANALYZE, BUFFERS) ${sql}`,
        values: params as unknown[],
      });
      await this.c.query('ROLLBACK');
      console.log(plan.rows.map((x: Record<string, string>) => x['QUERY PLAN']).join('\n'));
    }
    return (await this.c.query({ text: sql, values: params as unknown[] })).rows as R[];
  }
  async script(sql: string): Promise<void> {
    await this.c.query(sql);
  }
}

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
  const q = new Explaining(c);
  const worker = 'explain-worker';
  await registerWorker(q, {
    id: worker,
    hostname: 'bench',
    pid: process.pid,
    queues: ['default'],
    names: ['noop'],
    leaseMs: 60_000,
  });
  const lsn0 = (await c.query<{ l: string }>('SELECT pg_current_wal_lsn() AS l')).rows[0].l;
  const rounds = Math.ceil(JOBS / BATCH);
  const sample = new Set([1, Math.floor(rounds / 2)]);
  const quiet = process.argv.includes('--quiet');
  let claimMs = 0;
  let completeMs = 0;
  for (let r = 0; r < rounds; r++) {
    const explain = !quiet && sample.has(r);
    // A sampled round's statements run twice (explained, then for real): its times are not counted.
    let t = performance.now();
    const rows = await claimUnlimited(q, worker, ['default'], ['noop'], BATCH);
    if (!explain) claimMs += performance.now() - t;
    if (explain) console.log(`--- claim, round ${r} (above)`);
    t = performance.now();
    await completeMany(
      q,
      worker,
      rows.map((x) => ({
        id: x.id,
        attempt: x.attempts,
        output: 'null',
        hasParent: false,
        freesSlotOf: null,
      })),
    );
    if (!explain) completeMs += performance.now() - t;
    if (explain) console.log(`--- complete, round ${r} (above)`);
    q.explain = !quiet && sample.has(r + 1);
  }
  const wal = (await c.query<{ b: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS b', [lsn0]))
    .rows[0].b;
  const timed = rounds - (quiet ? 0 : [...sample].filter((r) => r < rounds).length);
  console.log(
    `${timed} rounds of ${BATCH} timed: claim ${claimMs.toFixed(0)} ms (${(claimMs / timed).toFixed(2)} ms each), ` +
      `complete ${completeMs.toFixed(0)} ms (${(completeMs / timed).toFixed(2)} ms each), ` +
      `${(((claimMs + completeMs) / (timed * BATCH)) * 1000).toFixed(1)} µs per job serial; ` +
      `${(Number(wal) / JOBS).toFixed(0)} WAL bytes per job${quiet ? '' : ' (explained rounds write twice: use --quiet)'}`,
  );
  await c.end();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
}
