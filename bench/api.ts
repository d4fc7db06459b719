// `npm run bench -- api [--executions N] [--connections N] [--seconds S] [--clients N] [--events N] [--repeat N]`
//
// The HTTP API (`baton server`) on the local PostgreSQL, seeded with 100,000 executions, under load
// from autocannon on loopback. The server is a child process (`baton server`, its rate limit off and
// request logs at warn), as users run it; autocannon runs in this process.
//
// - get: `GET /api/executions/:id` over 1,000 ids, 50 connections.
// - list: `GET /api/executions` filtered pages (status and queue, status and name, a search), 50
//   connections; then the same pages with `view=summary`, as the dashboard asks for them.
// - Baseline: the same single-execution read from a bare node:http server with pg and the same
//   column list, in a child process too (bench/_api-baseline.ts): what hono, validation, auth,
//   logging and metrics cost.
// - sse: 200 clients hold `GET /api/events`; an execution is inserted `--events` times (100 ms
//   apart) and each client's receipt is timed from the moment the insert was sent.
// - bundle: the dashboard's JavaScript, gzipped, when packages/dashboard/dist exists.
// Each load run lasts `--seconds` after a 1 s warm-up; `--repeat` runs alternate server and
// baseline, and the medians are reported. The last line is one JSON object.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import autocannon from 'autocannon';
import pg from 'pg';
import { BenchDatabases } from './_databases.js';
import { intArg } from './_args.js';
import { watchLoad } from './_load.js';

const EXECUTIONS = intArg('executions', 100_000);
const CONNECTIONS = intArg('connections', 50);
const SECONDS = intArg('seconds', 10);
const CLIENTS = intArg('clients', 200);
const EVENTS = intArg('events', 20);
const REPEAT = intArg('repeat', 3);
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const log = (msg: string) => process.stderr.write(`[api] ${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

/** Executions spread over 4 queues, 20 names, 7 days and every status, as a busy store holds them. */
async function seed(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO baton.executions (id, kind, name, queue, status, input, output, created_at, started_at,
                                     finished_at, claimable, attempts)
       SELECT 'e' || lpad(i::text, 9, '0'), 'job', 'bench.job-' || (i % 20), 'q' || (i % 4), s.status,
              json_build_object('order', i, 'customer', 'c' || (i % 997))::jsonb,
              CASE WHEN s.status = 'completed' THEN json_build_object('ok', true, 'total', i % 100)::jsonb END,
              now() - (($1::int - i) * interval '6 seconds'),
              CASE WHEN s.status <> 'queued' THEN now() - (($1::int - i) * interval '6 seconds') END,
              CASE WHEN s.status IN ('completed', 'failed') THEN now() - (($1::int - i) * interval '6 seconds') END,
              s.status = 'queued', CASE WHEN s.status = 'queued' THEN 0 ELSE 1 END
       FROM generate_series(1, $1::int) i,
            LATERAL (SELECT (CASE WHEN i % 10 < 7 THEN 'completed' WHEN i % 10 = 7 THEN 'failed'
                              WHEN i % 10 = 8 THEN 'queued' ELSE 'running' END)::baton.execution_status AS status) s`,
      [EXECUTIONS],
    );
    await c.query(
      `UPDATE baton.executions SET error = '{"message": "card declined", "code": "E_DECLINED"}'::jsonb
       WHERE status = 'failed'`,
    );
    await c.query('VACUUM ANALYZE baton.executions');
    const rows = await c.query<{ id: string }>(
      'SELECT id FROM baton.executions ORDER BY random() LIMIT 1000',
    );
    return rows.rows.map((r) => r.id);
  } finally {
    await c.end();
  }
}

/** Starts a child process and waits for the line that names its URL. */
async function startChild(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${output}`)));
  });
  return { url, child };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** autocannon against `paths`, taken in turn by every request. */
async function load(url: string, paths: string[], seconds: number): Promise<Load> {
  let i = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function timedLoad(url: string, paths: string[]): Promise<Load> {
  await load(url, paths, 1);
  return load(url, paths, SECONDS);
}

/**
 * Opens `n` event streams; resolves once each has its `ready` event. `onEvent(i, text)` gets every
 * later chunk of client i.
 */
async function openStreams(url: string, n: number, onEvent: (i: number, text: string) => void) {
  const closers: (() => void)[] = [];
  await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const req = request(`${url}/api/events?kind=job`, (res) => {
            if (res.statusCode !== 200) reject(new Error(`event stream ${i}: ${res.statusCode}`));
            res.setEncoding('utf8');
            let ready = false;
            res.on('data', (chunk: string) => {
              if (!ready && chunk.includes('event: ready')) {
                ready = true;
                resolve();
              } else if (ready) onEvent(i, chunk);
            });
          });
          req.on('error', (err) => (closers.length ? undefined : reject(err)));
          req.end();
          closers.push(() => req.destroy());
        }),
    ),
  );
  return () => closers.forEach((close) => close());
}

/** One event fanned out to every client: ms from sending the insert to each client's receipt. */
async function sseFanOut(url: string, dbUrl: string): Promise<number[]> {
  const latencies: number[] = [];
  let sentAt = 0;
  let id = '';
  const seen = new Set<number>();
  const close = await openStreams(url, CLIENTS, (i, text) => {
    if (id && !seen.has(i) && text.includes(id)) {
      seen.add(i);
      latencies.push(performance.now() - sentAt);
    }
  });
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    for (let k = 0; k < EVENTS; k++) {
      seen.clear();
      id = `sse-${k}-${Date.now()}`;
      sentAt = performance.now();
      await c.query(`INSERT INTO baton.executions (id, name) VALUES ($1, 'bench.sse')`, [id]);
      const deadline = performance.now() + 5000;
      while (seen.size < CLIENTS && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      if (seen.size < CLIENTS) log(`event ${k}: only ${seen.size} of ${CLIENTS} clients got it within 5 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await c.end();
    close();
  }
  return latencies;
}

function bundleGzipKb(): number | null {
  const dir = join(ROOT, 'packages/dashboard/dist/assets');
  if (!existsSync(dir)) return null;
  let bytes = 0;
  for (const f of readdirSync(dir))
    if (f.endsWith('.js')) bytes += gzipSync(readFileSync(join(dir, f))).length;
  return Math.round(bytes / 102.4) / 10;
}

const dbs = new BenchDatabases(BASE_URL, log);
const loadWatch = watchLoad(log);
const db = await dbs.create('api');
const dbUrl = dbs.urlFor(db);
try {
  const cli = join(ROOT, 'packages/cli/dist/bin.js');
  const migrate = spawn(process.execPath, [cli, '--database', dbUrl, 'migrate'], { stdio: 'ignore' });
  await new Promise((r) => migrate.once('exit', r));
  log(`seeding ${EXECUTIONS} executions …`);
  const ids = await seed(dbUrl);
  const getPaths = ids.map((id) => `/api/executions/${id}`);
  // Filters that match (status and name go together: job-3's are completed, job-7's failed).
  const listPaths = [
    '/api/executions?status=failed&queue=q3&limit=50',
    '/api/executions?status=completed&name=bench.job-3&limit=50',
    '/api/executions?status=running,queued&limit=50',
    '/api/executions?kind=job&queue=q2&limit=50',
  ];
  // A search reads every id and name (no index serves text inside them).
  const searchPaths = ['/api/executions?q=000042&limit=50', '/api/executions?q=job-1&limit=50'];

  const server = await startChild([
    cli,
    '--database',
    dbUrl,
    '--log-level',
    'warn',
    'server',
    '--port',
    '0',
    '--rate-limit',
    '0',
  ]);
  const baseline = await startChild(['--import', 'tsx', join(ROOT, 'bench/_api-baseline.ts')], {
    BENCH_API_DATABASE_URL: dbUrl,
  });
  // The same pages as the dashboard asks for them: summaries, without each execution's payloads.
  const summaryPaths = listPaths.map((p) => `${p}&view=summary`);
  const runs: Record<'get' | 'list' | 'listSummary' | 'search' | 'baselineGet', Load[]> = {
    get: [],
    list: [],
    listSummary: [],
    search: [],
    baselineGet: [],
  };
  try {
    for (let r = 0; r < REPEAT; r++) {
      log(`round ${r + 1} of ${REPEAT}`);
      runs.get.push(await timedLoad(server.url, getPaths));
      runs.baselineGet.push(await timedLoad(baseline.url, getPaths));
      runs.list.push(await timedLoad(server.url, listPaths));
      runs.listSummary.push(await timedLoad(server.url, summaryPaths));
      runs.search.push(await timedLoad(server.url, searchPaths));
    }
    const bad = Object.values(runs)
      .flat()
      .reduce((n, l) => n + l.errors + l.non2xx, 0);
    if (bad) log(`${bad} requests failed or answered non-2xx`);
    log(`SSE: ${CLIENTS} clients, ${EVENTS} events`);
    const sse = await sseFanOut(server.url, dbUrl);

    const row = (name: string, ls: Load[]) =>
      `| ${name} | ${median(ls.map((l) => l.rps)).toFixed(0)} | ${ls.map((l) => l.rps.toFixed(0)).join(' ')} | ${median(
        ls.map((l) => l.p50),
      )} | ${median(ls.map((l) => l.p99))} |`;
    console.log(
      `\n${EXECUTIONS} executions on PostgreSQL, ${CONNECTIONS} connections, ${SECONDS} s per run\n`,
    );
    console.log('| load | req/s (median) | all runs | p50 ms | p99 ms |');
    console.log('|---|---:|---|---:|---:|');
    console.log(row('GET /api/executions/:id (baton server)', runs.get));
    console.log(row('the same read, bare node:http + pg', runs.baselineGet));
    console.log(row('GET /api/executions, filtered page of 50', runs.list));
    console.log(row('the same pages, view=summary (as the dashboard asks)', runs.listSummary));
    console.log(row('GET /api/executions?q=…, search page of 50', runs.search));
    console.log(
      `\nSSE fan-out: ${sse.length} of ${CLIENTS * EVENTS} deliveries; p50 ${percentile(sse, 50).toFixed(1)} ms, p99 ${percentile(sse, 99).toFixed(1)} ms, max ${Math.max(...sse).toFixed(1)} ms`,
    );
    const load = loadWatch.end();
    // The rest of the figures first (stderr); the last line has exactly the keys.
    console.error(
      JSON.stringify({
        baseline_get_rps: Math.round(median(runs.baselineGet.map((l) => l.rps))),
        list_p99_ms: median(runs.list.map((l) => l.p99)),
        list_summary_rps: Math.round(median(runs.listSummary.map((l) => l.rps))),
        list_summary_p99_ms: median(runs.listSummary.map((l) => l.p99)),
        search_rps: Math.round(median(runs.search.map((l) => l.rps))),
        sse_deliveries: sse.length,
        sse_expected: CLIENTS * EVENTS,
        failed_requests: bad,
        executions: EXECUTIONS,
        connections: CONNECTIONS,
        seconds: SECONDS,
        repeat: REPEAT,
        ...load,
      }),
    );
    console.log(
      JSON.stringify({
        suite: 'api',
        get_rps: Math.round(median(runs.get.map((l) => l.rps))),
        get_p99_ms: median(runs.get.map((l) => l.p99)),
        list_rps: Math.round(median(runs.list.map((l) => l.rps))),
        sse_p99_ms: Math.round(percentile(sse, 99) * 10) / 10,
        bundle_gzip_kb: bundleGzipKb(),
      }),
    );
  } finally {
    await stopChild(server.child);
    await stopChild(baseline.child);
  }
} finally {
  await dbs.drop(db);
  await dbs.admin.end();
}
