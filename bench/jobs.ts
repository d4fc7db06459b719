// `npm run bench -- jobs [--jobs N] [--latency N] [--repeat R] [--systems baton,baton_kept,graphile_worker,pg_boss]
//   [--modes default,high-throughput] [--gap MS] [--cap S] [--pg-boss-default-cap S] [--profile]`
// (`--systems baton,baton_traced` adds Baton with an OpenTelemetry SDK, and `tracing_overhead` to the JSON)
//
// Baton's high-throughput settings keep no completed job (`removeOnComplete`): graphile-worker
// deletes every job it completes. `baton_kept` is the same with every completed job kept with its
// result, as Baton's default settings do (decision 0030).
//
// Baton beside graphile-worker and pg-boss on the local PostgreSQL, each in its default settings and
// in its high-throughput settings. Every system run gets its own fresh database. Workers run inside
// this process, one at a time. See docs/performance.md, section "jobs", for the method.
//
// Throughput: N no-op jobs are enqueued in bulk (not timed), then a worker with concurrency 10 is
// started and timed until the system's own tables say all N are completed. Every handler call is
// counted per job, so a job that ran twice or never is reported.
// Latency: jobs are enqueued one at a time (each enqueue awaited, a small gap between them) while the
// worker idles; enqueue-to-start is the time from calling enqueue to the handler being entered.
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';
import { BenchDatabases, runSuite } from './_databases.js';
import { argValue, intArg } from './_args.js';
import { startCostWindow, type WindowCost } from './_server-cost.js';
import { watchLoad } from './_load.js';
import { enableTracing } from './_tracing.js';
import { Logger as GwLogger, makeWorkerUtils, run as gwRun, type Runner } from 'graphile-worker';
import PgBoss from 'pg-boss';
import { Client, Store, Worker, createLogger, defineJob } from '@baton/core';

// ---------------------------------------------------------------------------------------------
// Options

type SystemName = 'baton' | 'baton_kept' | 'baton_traced' | 'graphile_worker' | 'pg_boss';
type Mode = 'default' | 'high-throughput';
const ALL_SYSTEMS: SystemName[] = ['baton', 'baton_kept', 'graphile_worker', 'pg_boss'];
/** Baton with an OpenTelemetry SDK registered (`--systems baton,baton_traced`): the cost of tracing. */
const OPTIONAL_SYSTEMS: SystemName[] = ['baton_traced'];

const JOBS = intArg('jobs', 50_000);
const LATENCY_JOBS = intArg('latency', 1000);
const GAP_MS = intArg('gap', 2, 0);
/** Upper bound on one throughput run, in seconds (pg-boss's default settings have their own, below). */
const CAP_S = intArg('cap', 300);
/** pg-boss's defaults run 1 job per worker every 2 s (5 jobs/s with 10 workers): 50,000 would take ~3 h. */
const PG_BOSS_DEFAULT_CAP_S = intArg('pg-boss-default-cap', 20);
/** Throughput runs per system and setting, interleaved; the table reports the median (pg-boss's defaults run once). */
const REPEAT = intArg('repeat', 1);
const PROFILE = process.argv.includes('--profile');
const SYSTEMS = (argValue('systems')?.split(',') ?? ALL_SYSTEMS).map((s) => {
  if (![...ALL_SYSTEMS, ...OPTIONAL_SYSTEMS].includes(s as SystemName))
    throw new Error(`unknown system '${s}' in --systems`);
  return s as SystemName;
});
const MODES = (argValue('modes')?.split(',') ?? ['default', 'high-throughput']).map((m) => {
  if (m !== 'default' && m !== 'high-throughput') throw new Error(`unknown mode '${m}' in --modes`);
  return m as Mode;
});
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONCURRENCY = 10;
const CHUNK = 5000;
const WARMUP = 20;

// ---------------------------------------------------------------------------------------------
// Small helpers

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[jobs] ${msg}\n`);

/** Counts handler calls per job index and remembers when each job was first entered. */
class Recorder {
  readonly calls: Uint32Array;
  readonly startedAt: Float64Array;
  total = 0;
  stray = 0;
  constructor(readonly size: number) {
    this.calls = new Uint32Array(size);
    this.startedAt = new Float64Array(size);
  }
  hit(i: unknown): void {
    const t = now();
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= this.size) {
      this.stray++;
      return;
    }
    if (this.calls[i]++ === 0) this.startedAt[i] = t;
    this.total++;
  }
  /** Jobs in [from, to) that ran more than once, and extra calls in all. */
  duplicates(from = 0, to = this.size): number {
    let d = 0;
    for (let i = from; i < to; i++) if (this.calls[i] > 1) d += this.calls[i] - 1;
    return d;
  }
  missing(from = 0, to = this.size): number {
    let m = 0;
    for (let i = from; i < to; i++) if (this.calls[i] === 0) m++;
    return m;
  }
}

async function waitFor(cond: () => boolean, deadline: number, stepMs = 2): Promise<boolean> {
  while (!cond()) {
    if (now() > deadline) return false;
    await sleep(stepMs);
  }
  return true;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const round = (x: number, digits = 0) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

// ---------------------------------------------------------------------------------------------
// Databases: one fresh database per system run, dropped at the end

const dbs = new BenchDatabases(BASE_URL, log);
const { admin } = dbs;
const urlFor = (db: string) => dbs.urlFor(db);
const createDatabase = (system: SystemName) => dbs.create(system);
const dropDatabase = (name: string) => dbs.drop(name);
const settle = (db: string) => dbs.settle(db);

// ---------------------------------------------------------------------------------------------
// One adapter per system

interface Harness {
  /** Enqueues jobs with inputs { i } for i in [0, n), in chunks of CHUNK, one round trip each. */
  enqueueBulk(n: number): Promise<void>;
  enqueueOne(i: number): Promise<void>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** How many of the `expected` jobs the system's own tables record as completed. */
  completed(expected: number): Promise<number>;
  close(): Promise<void>;
  /** Statement timings (Baton with --profile). */
  profile?(): string;
}

const SETTINGS: Record<SystemName, Record<Mode, string>> = {
  baton: {
    default: 'concurrency 10',
    'high-throughput': 'concurrency 10, prefetch 500, completionBatchDelay 0, removeOnComplete',
  },
  baton_kept: {
    default: 'concurrency 10 (as Baton default)',
    'high-throughput': 'concurrency 10, prefetch 500, completionBatchDelay 0; completed jobs kept',
  },
  baton_traced: {
    default: 'concurrency 10; OpenTelemetry SDK, batch processor, exporter dropping spans',
    'high-throughput':
      'as Baton high-throughput; OpenTelemetry SDK, batch processor, exporter dropping spans',
  },
  graphile_worker: {
    default: 'concurrency 10',
    'high-throughput': 'concurrency 10, worker.localQueue.size 500, worker.completeJobBatchDelay 0',
  },
  pg_boss: {
    default: '10 × work(), batchSize 1, pollingIntervalSeconds 2',
    'high-throughput': '10 × work(), batchSize 50, pollingIntervalSeconds 0.5',
  },
};

/** Baton; `keep` keeps every completed job with its result in the high-throughput settings too. */
async function openBaton(url: string, mode: Mode, rec: Recorder, keep = false): Promise<Harness> {
  const store = await Store.open({ databaseUrl: url, logger: createLogger('warn') });
  await store.migrate();
  const stats = PROFILE ? instrument(store) : undefined;
  // Input typed `unknown`: a JobDefinition<{ i: number }> is not accepted by WorkerOptions.jobs (see the report).
  const noop = defineJob('noop', {}, async (input) => {
    rec.hit((input as { i: number }).i);
  });
  const client = new Client(store, [noop]);
  const worker = new Worker(
    store,
    mode === 'default'
      ? { jobs: [noop], concurrency: CONCURRENCY }
      : {
          jobs: [noop],
          concurrency: CONCURRENCY,
          prefetch: 500,
          completionBatchDelay: 0,
          removeOnComplete: !keep,
        },
  );
  const removes = mode === 'high-throughput' && !keep;
  let started = false;
  return {
    async enqueueBulk(n) {
      for (let from = 0; from < n; from += CHUNK) {
        const items = [];
        for (let i = from; i < Math.min(n, from + CHUNK); i++) items.push({ input: { i } });
        await client.enqueueMany(noop, items);
      }
    },
    async enqueueOne(i) {
      await client.enqueue(noop, { i });
    },
    async startWorker() {
      stats?.clear();
      started = true;
      await worker.start();
    },
    async stopWorker() {
      if (started) await worker.stop({ deadline: 5000 });
      started = false;
    },
    async completed(expected) {
      // A completed job is either marked so or, when the worker keeps none, gone.
      const rows = await store.driver.query<{ n: number }>(
        removes
          ? `SELECT count(*)::int AS n FROM baton.executions WHERE status <> 'completed'`
          : `SELECT count(*)::int AS n FROM baton.executions WHERE status = 'completed'`,
      );
      return removes ? expected - rows[0].n : rows[0].n;
    },
    async close() {
      await store.close();
    },
    profile: stats ? () => formatProfile(stats) : undefined,
  };
}

/** Baton with tracing on for the whole run (enqueues and attempts), off again when it closes. */
async function openTracedBaton(url: string, mode: Mode, rec: Recorder): Promise<Harness> {
  const disable = enableTracing();
  const h = await openBaton(url, mode, rec);
  return {
    ...h,
    async close() {
      await h.close();
      await disable();
    },
  };
}

/** Wraps the store's query method to time every statement by its text (bench-side only). */
function instrument(store: Store): Map<string, { n: number; ms: number; rows: number }> {
  const stats = new Map<string, { n: number; ms: number; rows: number }>();
  const driver = store.driver as unknown as {
    query: (sql: string, params?: readonly unknown[], name?: string) => Promise<unknown[]>;
  };
  const original = driver.query.bind(driver);
  driver.query = async (sql, params, name) => {
    const t = now();
    const rows = await original(sql, params, name);
    const key = name ?? sql.replace(/\s+/g, ' ').trim().slice(0, 70);
    const s = stats.get(key) ?? { n: 0, ms: 0, rows: 0 };
    s.n++;
    s.ms += now() - t;
    s.rows += rows.length;
    stats.set(key, s);
    return rows;
  };
  return stats;
}

function formatProfile(stats: Map<string, { n: number; ms: number; rows: number }>): string {
  const lines = [...stats.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(
      ([k, s]) =>
        `  ${String(s.n).padStart(7)} calls ${s.ms.toFixed(0).padStart(7)} ms  ${(s.ms / s.n).toFixed(2).padStart(7)} ms/call  ${(s.rows / s.n).toFixed(1).padStart(6)} rows/call  ${k}`,
    );
  return lines.join('\n');
}

async function openGraphileWorker(url: string, mode: Mode, rec: Recorder): Promise<Harness> {
  // Quiet logger: errors only.
  const logger = new GwLogger(() => (level, message) => {
    if (level === 'error') console.error(`graphile-worker: ${message}`);
  });
  // Our own pools, ended (and awaited) by us: graphile-worker ends the pools it makes itself without
  // awaiting, and its clients would then see the DROP DATABASE with no error handler attached.
  const pools: pg.Pool[] = [];
  const pool = (max: number) => {
    const p = new pg.Pool({ connectionString: url, max });
    p.on('error', () => undefined);
    p.on('connect', (c) => c.on('error', () => undefined));
    pools.push(p);
    return p;
  };
  const utils = await makeWorkerUtils({ pgPool: pool(2), logger });
  await utils.migrate();
  let runner: Runner | undefined;
  return {
    async enqueueBulk(n) {
      for (let from = 0; from < n; from += CHUNK) {
        const specs = [];
        for (let i = from; i < Math.min(n, from + CHUNK); i++)
          specs.push({ identifier: 'noop', payload: { i } });
        await utils.addJobs(specs);
      }
    },
    async enqueueOne(i) {
      await utils.addJob('noop', { i });
    },
    async startWorker() {
      runner = await gwRun({
        pgPool: pool(10), // graphile-worker's default maxPoolSize
        concurrency: CONCURRENCY,
        noHandleSignals: true,
        logger,
        crontab: '',
        taskList: {
          noop: async (payload) => {
            rec.hit((payload as { i: number }).i);
          },
        },
        preset:
          mode === 'default'
            ? undefined
            : { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0 } },
      });
    },
    async stopWorker() {
      await runner?.stop();
      await runner?.promise;
      runner = undefined;
    },
    async completed(expected) {
      // graphile-worker deletes a job when it completes; failed jobs stay with their last_error.
      const left = await utils.withPgClient((c) =>
        c.query<{ n: number }>('SELECT count(*)::int AS n FROM graphile_worker._private_jobs'),
      );
      return expected - left.rows[0].n;
    },
    async close() {
      await utils.release();
      await Promise.all(pools.map((p) => p.end()));
    },
  };
}

async function openPgBoss(url: string, mode: Mode, rec: Recorder): Promise<Harness> {
  const boss = new PgBoss({ connectionString: url });
  boss.on('error', (err) => console.error(`pg-boss: ${err.message}`));
  await boss.start();
  await boss.createQueue('noop');
  const workOptions: PgBoss.WorkOptions =
    mode === 'default' ? {} : { batchSize: 50, pollingIntervalSeconds: 0.5 };
  const db = boss.getDb();
  return {
    async enqueueBulk(n) {
      for (let from = 0; from < n; from += CHUNK) {
        const jobs = [];
        for (let i = from; i < Math.min(n, from + CHUNK); i++) jobs.push({ name: 'noop', data: { i } });
        await boss.insert(jobs);
      }
    },
    async enqueueOne(i) {
      await boss.send('noop', { i });
    },
    async startWorker() {
      // pg-boss 10 has no per-worker concurrency option: each work() call adds one polling worker.
      for (let k = 0; k < CONCURRENCY; k++) {
        await boss.work<{ i: number }>('noop', workOptions, async (jobs) => {
          for (const job of jobs) rec.hit(job.data.i);
        });
      }
    },
    async stopWorker() {
      await boss.offWork('noop');
    },
    async completed() {
      const res = await db.executeSql(
        `SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'noop' AND state = 'completed'`,
        [],
      );
      return (res.rows[0] as { n: number }).n;
    },
    async close() {
      await boss.stop({ graceful: true, wait: true, timeout: 5000 });
    },
  };
}

const OPEN: Record<SystemName, (url: string, mode: Mode, rec: Recorder) => Promise<Harness>> = {
  baton: openBaton,
  baton_kept: (url, mode, rec) => openBaton(url, mode, rec, true),
  baton_traced: openTracedBaton,
  graphile_worker: openGraphileWorker,
  pg_boss: openPgBoss,
};

// ---------------------------------------------------------------------------------------------
// Runs

interface ThroughputResult {
  system: SystemName;
  mode: Mode;
  jobsPerS: number;
  seconds: number;
  completed: number;
  enqueueS: number;
  duplicates: number;
  missing: number;
  capped: boolean;
  /** Per completed job, over the timed window. */
  cost: WindowCost;
}

interface LatencyResult {
  system: SystemName;
  /** How long one enqueue call took (the job may start before it returns). */
  enqueueP50: number;
  mode: Mode;
  p50: number;
  p99: number;
  max: number;
  measured: number;
  duplicates: number;
  missing: number;
}

async function withDatabase<T>(
  system: SystemName,
  mode: Mode,
  size: number,
  fn: (h: Harness, rec: Recorder, db: string) => Promise<T>,
): Promise<T> {
  const db = await createDatabase(system);
  const rec = new Recorder(size);
  let h: Harness | undefined;
  try {
    h = await OPEN[system](urlFor(db), mode, rec);
    return await fn(h, rec, db);
  } finally {
    if (h) {
      await h
        .stopWorker()
        .catch((err) => log(`${system}: stopping the worker failed: ${(err as Error).message}`));
      await h.close().catch((err) => log(`${system}: closing failed: ${(err as Error).message}`));
    }
    await dropDatabase(db);
  }
}

async function throughput(system: SystemName, mode: Mode, n: number): Promise<ThroughputResult> {
  return withDatabase(system, mode, n, async (h, rec, db) => {
    const te = now();
    await h.enqueueBulk(n);
    const enqueueS = (now() - te) / 1000;
    await settle(db);
    const capS = system === 'pg_boss' && mode === 'default' ? PG_BOSS_DEFAULT_CAP_S : CAP_S;
    const endCost = await startCostWindow(admin);
    const t0 = now();
    const deadline = t0 + capS * 1000;
    await h.startWorker();
    // Handlers entered for all: now confirm in the system's tables (completions may be batched).
    await waitFor(() => rec.total >= n, deadline);
    let done = await h.completed(n);
    while (done < n && now() < deadline) {
      await sleep(5);
      done = await h.completed(n);
    }
    const t1 = now();
    const cost = await endCost(done);
    const capped = done < n;
    await h.stopWorker();
    if (h.profile) log(`${system} ${mode} statement profile:\n${h.profile()}`);
    const seconds = (t1 - t0) / 1000;
    let first = Infinity;
    for (let i = 0; i < n; i++) if (rec.calls[i] > 0 && rec.startedAt[i] < first) first = rec.startedAt[i];
    log(`  first job entered ${(first - t0).toFixed(0)} ms after the worker was started`);
    return {
      system,
      mode,
      jobsPerS: done / seconds,
      seconds,
      completed: done,
      enqueueS,
      duplicates: rec.duplicates() + rec.stray,
      missing: capped ? 0 : rec.missing(),
      capped,
      cost,
    };
  });
}

function formatCost(c: WindowCost): string {
  const server = c.server_cpu_us === null ? 'n/a' : `${c.server_cpu_us.toFixed(1)} µs`;
  return `server CPU ${server}, client CPU ${c.client_cpu_us.toFixed(1)} µs, WAL ${c.wal_bytes.toFixed(0)} B`;
}

async function latency(system: SystemName, mode: Mode, count: number): Promise<LatencyResult> {
  return withDatabase(system, mode, count + WARMUP, async (h, rec) => {
    await h.startWorker();
    await sleep(300);
    // Warm-up jobs (indices count..count+WARMUP) prepare statements and connections; not measured.
    for (let w = 0; w < WARMUP; w++) {
      await h.enqueueOne(count + w);
      await sleep(GAP_MS);
    }
    await waitFor(() => rec.total >= WARMUP, now() + 30_000);
    const sent = new Float64Array(count);
    const roundTrips: number[] = [];
    for (let i = 0; i < count; i++) {
      sent[i] = now();
      await h.enqueueOne(i);
      roundTrips.push(now() - sent[i]);
      if (GAP_MS > 0) await sleep(GAP_MS);
    }
    await waitFor(() => rec.total >= count + WARMUP, now() + 60_000);
    const deadline = now() + 10_000;
    let done = await h.completed(count + WARMUP);
    while (done < count + WARMUP && now() < deadline) {
      await sleep(10);
      done = await h.completed(count + WARMUP);
    }
    if (done < count + WARMUP)
      log(`${system} ${mode}: only ${done} of ${count + WARMUP} latency jobs completed`);
    const lat: number[] = [];
    for (let i = 0; i < count; i++) if (rec.calls[i] > 0) lat.push(rec.startedAt[i] - sent[i]);
    lat.sort((a, b) => a - b);
    roundTrips.sort((a, b) => a - b);
    return {
      enqueueP50: percentile(roundTrips, 0.5),
      system,
      mode,
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      max: lat.at(-1) ?? NaN,
      measured: lat.length,
      duplicates: rec.duplicates() + rec.stray,
      missing: rec.missing(),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Main

function version(pkg: string): string {
  try {
    const url = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

const LABEL: Record<SystemName, string> = {
  baton: 'Baton',
  baton_kept: 'Baton, results kept',
  baton_traced: 'Baton + tracing',
  graphile_worker: 'graphile-worker',
  pg_boss: 'pg-boss',
};

async function main(): Promise<void> {
  const load = watchLoad(log);
  const serverVersion = (
    await admin.query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version'])
  ).rows[0].v;
  log(
    `jobs ${JOBS}, latency jobs ${LATENCY_JOBS} (gap ${GAP_MS} ms), systems ${SYSTEMS.join(', ')}; ` +
      `PostgreSQL ${serverVersion}, Node ${process.version}, ${cpus().length} cores; ` +
      `graphile-worker ${version('graphile-worker')}, pg-boss ${version('pg-boss')}`,
  );
  const modes = MODES;
  const tput: ThroughputResult[] = [];
  const lat: LatencyResult[] = [];
  for (let round = 0; round < REPEAT; round++) {
    for (const system of SYSTEMS) {
      for (const mode of modes) {
        if (round > 0 && system === 'pg_boss' && mode === 'default') continue;
        if (system === 'baton_kept' && mode === 'default') continue; // the same as Baton's default
        log(
          `${LABEL[system]} ${mode}: throughput, ${JOBS} jobs${REPEAT > 1 ? `, round ${round + 1}` : ''} …`,
        );
        const r = await throughput(system, mode, JOBS);
        tput.push(r);
        log(
          `  ${r.jobsPerS.toFixed(0)} jobs/s (${r.completed} in ${r.seconds.toFixed(2)} s${r.capped ? ', CAPPED' : ''}; ` +
            `enqueue ${r.enqueueS.toFixed(2)} s; duplicates ${r.duplicates}, missing ${r.missing})`,
        );
        log(`  per job: ${formatCost(r.cost)}`);
      }
    }
  }
  // One row per system and setting: the run with the median jobs/s.
  const runs = (system: SystemName, mode: Mode) =>
    tput.filter((t) => t.system === system && t.mode === mode).sort((a, b) => a.jobsPerS - b.jobsPerS);
  const median = (system: SystemName, mode: Mode): ThroughputResult | undefined => {
    const r = runs(system, mode);
    return r[Math.floor((r.length - 1) / 2)];
  };
  const summary = SYSTEMS.flatMap((system) => modes.map((mode) => median(system, mode))).filter(
    (t): t is ThroughputResult => t !== undefined,
  );
  // Latency runs repeat as throughput runs do, interleaved (pg-boss's, which poll, run once).
  for (let round = 0; round < REPEAT; round++) {
    for (const system of SYSTEMS) {
      for (const mode of modes) {
        // pg-boss's default worker takes 10 jobs per 2 s: a sequential latency run would only measure its backlog.
        if (system === 'pg_boss' && (mode === 'default' || round > 0)) continue;
        if (system === 'baton_kept' && mode === 'default') continue;
        log(
          `${LABEL[system]} ${mode}: latency, ${LATENCY_JOBS} jobs${REPEAT > 1 ? `, round ${round + 1}` : ''} …`,
        );
        const r = await latency(system, mode, LATENCY_JOBS);
        lat.push(r);
        log(
          `  p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms (${r.measured} measured); ` +
            `one enqueue call p50 ${r.enqueueP50.toFixed(2)} ms`,
        );
      }
    }
  }
  /** The latency run with the median p50 of a system and setting. */
  const getL = (system: SystemName, mode: Mode): LatencyResult | undefined => {
    const r = lat.filter((t) => t.system === system && t.mode === mode).sort((a, b) => a.p50 - b.p50);
    return r[Math.floor((r.length - 1) / 2)];
  };

  // Table
  const header = [
    'system',
    'settings',
    'jobs/s',
    'all runs',
    'time s',
    'done',
    'dup',
    'lat p50 ms',
    'lat p99 ms',
  ];
  const rows: string[][] = [];
  for (const t of summary) {
    const l = getL(t.system, t.mode);
    const all = runs(t.system, t.mode);
    rows.push([
      LABEL[t.system],
      `${t.mode}: ${SETTINGS[t.system][t.mode]}`,
      `${t.jobsPerS.toFixed(0)}${t.capped ? '*' : ''}`,
      all.map((x) => x.jobsPerS.toFixed(0)).join(' '),
      t.seconds.toFixed(2),
      String(t.completed),
      String(
        [...all, ...lat.filter((x) => x.system === t.system && x.mode === t.mode)].reduce(
          (n, x) => n + x.duplicates,
          0,
        ),
      ),
      l ? l.p50.toFixed(1) : '-',
      l ? l.p99.toFixed(1) : '-',
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ') + ' |';
  console.log(line(header));
  console.log(
    '|' + widths.map((w, i) => (i >= 2 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|',
  );
  for (const r of rows) console.log(line(r));
  if (tput.some((t) => t.capped))
    console.log(`* capped: not all ${JOBS} jobs done within the time limit; jobs/s = completed / time`);

  const get = median;
  const b = get('baton', 'high-throughput');
  const kept = get('baton_kept', 'high-throughput');
  const g = get('graphile_worker', 'high-throughput');
  const problems = [...tput, ...lat].filter((r) => r.duplicates > 0 || r.missing > 0);
  for (const p of problems)
    console.log(
      `WARNING: ${LABEL[p.system]} ${p.mode}: ${p.duplicates} duplicate handler calls, ${p.missing} missing`,
    );
  const result = {
    suite: 'jobs',
    baton_jobs_per_s: b ? round(b.jobsPerS) : null,
    graphile_worker_jobs_per_s: g ? round(g.jobsPerS) : null,
    ratio: b && g ? round(b.jobsPerS / g.jobsPerS, 2) : null,
    baton_kept_jobs_per_s: kept ? round(kept.jobsPerS) : null,
    ratio_kept: kept && g ? round(kept.jobsPerS / g.jobsPerS, 2) : null,
    baton_latency_p50_ms: round(getL('baton', 'high-throughput')?.p50 ?? NaN, 2),
    graphile_worker_latency_p50_ms: round(getL('graphile_worker', 'high-throughput')?.p50 ?? NaN, 2),
    baton_latency_p99_ms: round(getL('baton', 'high-throughput')?.p99 ?? NaN, 2),
    graphile_worker_latency_p99_ms: round(getL('graphile_worker', 'high-throughput')?.p99 ?? NaN, 2),
    pg_boss_jobs_per_s: round(get('pg_boss', 'high-throughput')?.jobsPerS ?? NaN),
    pg_boss_latency_p50_ms: round(getL('pg_boss', 'high-throughput')?.p50 ?? NaN, 2),
    pg_boss_latency_p99_ms: round(getL('pg_boss', 'high-throughput')?.p99 ?? NaN, 2),
    baton_default_jobs_per_s: round(get('baton', 'default')?.jobsPerS ?? NaN),
    graphile_worker_default_jobs_per_s: round(get('graphile_worker', 'default')?.jobsPerS ?? NaN),
    pg_boss_default_jobs_per_s: round(get('pg_boss', 'default')?.jobsPerS ?? NaN),
    baton_default_latency_p50_ms: round(getL('baton', 'default')?.p50 ?? NaN, 2),
    graphile_worker_default_latency_p50_ms: round(getL('graphile_worker', 'default')?.p50 ?? NaN, 2),
    ...(SYSTEMS.includes('baton_traced') && {
      baton_traced_jobs_per_s: round(get('baton_traced', 'high-throughput')?.jobsPerS ?? NaN),
      tracing_overhead:
        b && get('baton_traced', 'high-throughput')
          ? round(1 - get('baton_traced', 'high-throughput')!.jobsPerS / b.jobsPerS, 3)
          : null,
    }),
    jobs: JOBS,
    latency_jobs: LATENCY_JOBS,
    repeat: REPEAT,
    ...load.end(),
    duplicates: [...tput, ...lat].reduce((s, r) => s + r.duplicates, 0),
    missing: [...tput, ...lat].reduce((s, r) => s + r.missing, 0),
  };
  console.log(JSON.stringify(result));
  if (problems.length > 0) process.exitCode = 1;
}

await runSuite(dbs, log, main);
