// `npm run bench -- roundtrip [--statements N]`
//
// What one statement costs this machine, outside any engine: wall time, PostgreSQL CPU and client
// CPU per round trip, for `SELECT 1` and for a one-row INSERT committed durably. Every engine figure
// (jobs/s, a workflow's turn, a sweep) moves with these, and on the 2-core VMs the project runs on
// they change several-fold from one hour to the next (idle-CPU wake-ups). Run it beside a bench to
// see which machine the bench ran on. Last line: {"suite":"roundtrip", …}.
import pg from 'pg';
import { performance } from 'node:perf_hooks';
import { intArg } from './_args.js';
import { startCostWindow } from './_server-cost.js';
import { watchLoad } from './_load.js';

const N = intArg('statements', 2000);
const URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const log = (msg: string) => console.log(msg);
const load = watchLoad(log);

const admin = new pg.Pool({ connectionString: URL, max: 1 });
const client = new pg.Client({ connectionString: URL });
await client.connect();

interface Cost {
  wall_us: number;
  server_cpu_us: number | null;
  client_cpu_us: number;
}

async function probe(sql: string): Promise<Cost> {
  for (let i = 0; i < 200; i++) await client.query(sql); // warm-up: plan cache, connection
  const end = await startCostWindow(admin);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await client.query(sql);
  const wall = ((performance.now() - t0) * 1000) / N;
  const cost = await end(N);
  return {
    wall_us: Math.round(wall),
    server_cpu_us: cost.server_cpu_us === null ? null : Math.round(cost.server_cpu_us),
    client_cpu_us: Math.round(cost.client_cpu_us),
  };
}

try {
  const select = await probe('SELECT 1');
  // A permanent table: writes to a temporary one are not WAL-logged, so their commit flushes nothing.
  await client.query('CREATE TABLE IF NOT EXISTS baton_roundtrip_probe (x int)');
  const commit = await probe('INSERT INTO baton_roundtrip_probe VALUES (1)');
  await client.query('DROP TABLE baton_roundtrip_probe');
  const show = (c: Cost) =>
    `${c.wall_us} µs wall, ${c.server_cpu_us ?? 'n/a'} µs PostgreSQL CPU, ${c.client_cpu_us} µs client CPU`;
  log(`SELECT 1: ${show(select)}`);
  log(`one-row INSERT, durable commit: ${show(commit)}`);
  const end = load.end();
  console.log(
    JSON.stringify({
      suite: 'roundtrip',
      statements: N,
      select_wall_us: select.wall_us,
      select_server_cpu_us: select.server_cpu_us,
      select_client_cpu_us: select.client_cpu_us,
      commit_wall_us: commit.wall_us,
      commit_server_cpu_us: commit.server_cpu_us,
      commit_client_cpu_us: commit.client_cpu_us,
      ...end,
    }),
  );
} finally {
  await client.end();
  await admin.end();
}
