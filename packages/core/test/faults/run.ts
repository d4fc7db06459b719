// `npm run test:faults [-- --long] [--seconds N] [--seed N] [--workers N] [--lease MS] [--keep]`
//
// Worker processes share a fresh database on the local PostgreSQL server and run a mixed load
// (load.ts) while faults (faults.ts) hit them at random moments: SIGKILL mid-step, mid-claim and
// between a side effect and its checkpoint, SIGSTOP zombies, graceful stops, killed connections,
// server restarts, steps past their lease, bursts of signals and cancellations. Then the faults
// stop, the system settles, and checks.ts verifies that nothing was lost, doubled or left stuck.
// Last comes the embedded phase (embedded.ts): a PGlite writer killed again and again.
// The last line printed is one JSON object; the exit code is 1 if any check failed.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Client, Store, createLogger } from '../../src/index.js';
import { intArg } from '../../../../bench/_args.js';
import { Cluster } from './cluster.js';
import { checkAll } from './checks.js';
import { embeddedPhase } from './embedded.js';
import { WORKER_APP, drawFault, inject, serverControl, type FaultContext, type FaultKind } from './faults.js';
import { LIMITED_CONCURRENCY, SETUP_SQL } from './load.js';
import { Traffic, retrying } from './traffic.js';
import { seededRandom } from '../../src/workflow/prng.js';
import { freshDatabase } from '../backends.js';

const long = process.argv.includes('--long');
const seconds = intArg('seconds', long ? 600 : 90);
const seed = intArg('seed', Date.now() % 1_000_000_000, 0);
const workers = intArg('workers', 3);
const leaseMs = intArg('lease', 1500, 100);
const keep = process.argv.includes('--keep');
// The server comes from BATON_PG_URL, as for the tests; the run's database is created on it.
const serverUrl = (process.env.BATON_PG_URL ??= 'postgres://postgres@127.0.0.1:5432/test');
process.env.BATON_TEST_DB_PREFIX ??= 'baton_faults';
// Load and restarts scale with the phase: the CI run has thousands of jobs and hundreds of workflows.
const totalJobs = Math.round(seconds * 45);
const totalOrders = Math.round(seconds * 3);
const restarts = Math.max(2, Math.floor(seconds / 60));
const embeddedKills = long ? 20 : 5;

const began = Date.now();
const log = (line: string) =>
  console.log(`[${((Date.now() - began) / 1000).toFixed(1).padStart(6)}s] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await retrying(() => admin.connect());
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** Logs the longest-open executions with what holds them, to tell a slow settle from a stuck one. */
async function describeOldest(store: Store): Promise<void> {
  const rows = await retrying(() =>
    store.driver.query<{ line: string }>(
      `SELECT format('%s %s %s %s: run_at %s ms ago, started %s ms ago, attempts %s, lease %s (%s)',
                     e.kind, e.name, e.id, e.status,
                     round(extract(epoch FROM now() - e.run_at) * 1000), round(extract(epoch FROM now() - e.started_at) * 1000),
                     e.attempts, e.lease_owner,
                     CASE WHEN e.lease_owner IS NULL THEN 'none' WHEN w.id IS NULL THEN 'worker gone' ELSE 'worker alive' END) AS line
       FROM baton.executions e LEFT JOIN baton.workers w ON w.id = e.lease_owner
       WHERE e.status NOT IN ('completed', 'failed', 'cancelled') ORDER BY e.created_at LIMIT 3`,
    ),
  );
  for (const r of rows) log(`  ${r.line}`);
}

async function main(): Promise<number> {
  const server = serverControl(serverUrl);
  const url = await freshDatabase();
  const db = { url, name: new URL(url).pathname.slice(1) };
  const logFile = join(tmpdir(), `${db.name}.log`);
  log(`seed ${seed}, ${seconds} s of faults, ${workers} workers, lease ${leaseMs} ms, database ${db.name}`);
  log(`worker warnings go to ${logFile}`);
  if (!server)
    log('this process cannot restart PostgreSQL (needs root and a local pg_ctlcluster): no restart faults');

  const store = await Store.open({ databaseUrl: db.url, logger: createLogger('silent'), poolSize: 8 });
  await store.migrate();
  await store.driver.script(SETUP_SQL);
  const client = new Client(store);
  await client.configureQueue('limited', { concurrency: LIMITED_CONCURRENCY });

  const workerUrl = new URL(db.url);
  workerUrl.searchParams.set('application_name', WORKER_APP);
  const cluster = new Cluster({
    url: workerUrl.toString(),
    size: workers,
    leaseMs,
    concurrency: 10,
    logFile,
  });
  const rng = seededRandom(String(seed));
  const traffic = new Traffic(client, rng);
  const ctx: FaultContext = { cluster, traffic, db: store.driver, leaseMs, rng, server };
  const problems: string[] = [];
  const counts = new Map<string, number>();
  let injected = 0;
  const count = (kind: string) => {
    injected++;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  };

  await cluster.replenish();
  log(`${cluster.live().length} workers ready`);

  // The load, the worker pool and the faults run side by side until the phase ends.
  const end = Date.now() + seconds * 1000;
  const tickMs = 250;
  const ticks = (seconds * 1000) / tickMs;
  let ordersOwed = 0;
  const loadLoop = (async () => {
    while (Date.now() < end) {
      const t = Date.now();
      try {
        await traffic.enqueueBulk(Math.round((totalJobs * 0.9) / ticks));
        for (let i = 0; i < Math.round((totalJobs * 0.1) / ticks); i++) await traffic.enqueueOne();
        for (ordersOwed += totalOrders / ticks; ordersOwed >= 1; ordersOwed--) await traffic.startOrder();
        await traffic.trickleSignals(0.3, 500);
      } catch (err) {
        problems.push(`client call failed: ${(err as Error).message}`);
      }
      await sleep(Math.max(0, tickMs - (Date.now() - t)));
    }
  })();
  let poolRunning = true;
  const poolLoop = (async () => {
    while (poolRunning) {
      if (cluster.live().length < workers) await cluster.start().catch(() => sleep(300));
      else await sleep(200);
    }
  })();
  const restartAt = Array.from(
    { length: server ? restarts : 0 },
    (_, i) => began + ((i + 0.5) / restarts) * seconds * 1000,
  );
  while (Date.now() < end) {
    await sleep(Math.round(400 + rng() * 800));
    let kind: FaultKind = drawFault(rng);
    if (restartAt.length > 0 && Date.now() >= restartAt[0]) {
      restartAt.shift();
      kind = restartAt.length % 2 === 0 ? 'pg-crash-restart' : 'pg-restart';
    }
    try {
      const r = await inject(kind, ctx);
      if (!r) continue;
      if (kind !== 'kill-mid-claim' && kind !== 'kill-after-effect') count(kind);
      log(`fault ${kind}: ${r.detail}`);
    } catch (err) {
      problems.push(`injecting ${kind} failed: ${(err as Error).message}`);
    }
  }
  await loadLoop;

  // Settle: no more faults; every zombie resumed, the pool full, every owed signal sent.
  log('faults stop; settling');
  cluster.resumeAll();
  try {
    await traffic.sendAllSignals();
  } catch (err) {
    problems.push(`sending the remaining signals failed: ${(err as Error).message}`);
  }
  const settleBy = Date.now() + 180_000;
  for (let i = 0; ; i++) {
    const open = await retrying(() =>
      store.driver.query<{ kind: string; status: string; n: number }>(
        `SELECT kind, status, count(*)::int AS n FROM baton.executions
         WHERE status NOT IN ('completed', 'failed', 'cancelled') GROUP BY kind, status`,
      ),
    );
    if (open.length === 0 || Date.now() > settleBy) break;
    if (i % 10 === 9) {
      log(`still open: ${open.map((o) => `${o.n} ${o.kind} ${o.status}`).join(', ')}`);
      await describeOldest(store);
    }
    await sleep(500);
  }
  poolRunning = false;
  await poolLoop;
  await cluster.stopAll();
  // Cron fires enqueued while the workers stopped are run by one last worker without schedules.
  const drain = await cluster.start({ SCHEDULES: '0' });
  const drainBy = Date.now() + 60_000;
  while (Date.now() < drainBy) {
    const [{ open }] = await store.driver.query<{ open: number }>(
      `SELECT count(*)::int AS open FROM baton.executions WHERE status NOT IN ('completed', 'failed', 'cancelled')`,
    );
    if (open === 0) break;
    await sleep(200);
  }
  drain.child.kill('SIGTERM');
  await drain.exited;
  cluster.close();
  for (const p of cluster.procs) {
    if (p.armed && p.exitSignal === 'SIGKILL' && !p.killedByUs) count(p.armed);
    // Any other way out but a clean exit (a SIGTERM'd worker exits 0) is a crash. A worker that
    // could not start (the server was restarting) is not one.
    else if (p.id && !p.killedByUs && (await p.exited) !== 0)
      problems.push(`worker ${p.pid} crashed (exit ${p.exitSignal ?? (await p.exited)}); see ${logFile}`);
  }

  log('checking');
  const report = await checkAll(store.driver, traffic);
  await store.close();

  log(`embedded phase: ${embeddedKills} kills of a PGlite writer`);
  const embedded = await embeddedPhase(embeddedKills, rng, log);
  injected += embedded.kills;
  counts.set('embedded-kill', embedded.kills);

  const violations = [...problems, ...report.violations, ...embedded.violations];
  if (injected < 50)
    violations.push(`only ${injected} faults were injected; a run needs at least 50 (give more --seconds)`);
  log(`faults by kind: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  log(`side effects executed again (at-least-once steps): ${JSON.stringify(report.reexecutions)}`);
  log(`cron fires: ${report.cronFires}; embedded executions: ${embedded.executions}`);
  for (const v of violations) log(`VIOLATION ${v}`);
  if (violations.length === 0 && !keep) await dropDatabase(db.name);
  else log(`database ${db.name} kept for inspection`);
  console.log(
    JSON.stringify({
      suite: 'faults',
      faults_injected: injected,
      jobs: report.jobs,
      workflows: report.workflows,
      lost: report.lost + embedded.lost,
      duplicate_completions: report.duplicateCompletions,
      stuck: report.stuck,
      reexecutions: Object.values(report.reexecutions).reduce((a, b) => a + b, 0),
      violations: violations.length,
      seconds: Math.round((Date.now() - began) / 1000),
      seed,
    }),
  );
  return violations.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
