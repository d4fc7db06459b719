// The engine's figures over HTTP, on a real store (PGlite, and PostgreSQL when BATON_PG_URL is set)
// holding executions whose statuses and times the test sets: each queue's completions, failures,
// throughput and latency percentiles over the last 5 minutes at /api/queues, the same figures and
// the executions by status as Prometheus gauges at /metrics, and the Architect's SLA states there
// once its tasks age.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Store, defineJob } from '@baton/core';
import { quietLogger } from '../../core/test/backends.js';
import { BACKENDS } from './stores.js';
import { startServer, type RunningServer } from '../src/index.js';

const FIXTURE = fileURLToPath(new URL('../../../examples/architect/baton/base/', import.meta.url));
const job = defineJob('stats.job', { queue: 'stats' }, async () => 'done');

/** The value of the series `name{labels}` in a Prometheus text exposition; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (
      Object.entries(labels).every(([k, v]) => have[k] === v) &&
      Object.keys(have).length === Object.keys(labels).length
    )
      return Number(m[3]);
  }
  return undefined;
}

describe.each(BACKENDS)('queue statistics and engine gauges on $name', (backend) => {
  let store: Store;
  let server: RunningServer;
  let dir: string;

  const get = async (path: string) => {
    const res = await fetch(`${server.url}${path}`);
    expect(res.status).toBe(200);
    return res;
  };
  const scrape = async () => (await get('/metrics')).text();

  /**
   * An execution of `stats.job` in `status`, finished `agoMs` before now, created `latencyMs` and
   * claimed `runMs` before its finish.
   */
  const finished = async (status: string, agoMs: number, latencyMs: number, runMs: number) => {
    const { id } = await new Client(store).enqueue(job, {});
    await store.driver.query(
      `UPDATE baton.executions SET status = $2::baton.execution_status, claimable = false,
         finished_at = now() - $3::float8 * interval '1 millisecond',
         created_at = now() - ($3::float8 + $4::float8) * interval '1 millisecond',
         started_at = now() - ($3::float8 + $5::float8) * interval '1 millisecond'
       WHERE id = $1`,
      [id, status, agoMs, latencyMs, runMs],
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-server-stats-'));
    mkdirSync(join(dir, 'base'));
    for (const f of ['routing_rules.yaml', 'sla_rules.yaml'])
      copyFileSync(join(FIXTURE, f), join(dir, 'base', f));
    store = await backend.open();
    await store.migrate();
    // In the window: 19 completed, 1 to 19 s from creation to finish (a tenth of it running), and one
    // failed after 100 s (10 s running). Outside it: one completed 10 minutes ago. Not counted: one
    // cancelled. Unfinished: one queued, one running.
    for (let s = 1; s <= 19; s++) await finished('completed', 60_000, s * 1000, s * 100);
    await finished('failed', 120_000, 100_000, 10_000);
    await finished('completed', 600_000, 999_000, 999_000);
    await finished('cancelled', 60_000, 5_000, 5_000);
    await new Client(store).enqueue(job, {});
    const { id } = await new Client(store).enqueue(job, {});
    await store.driver.query(
      `UPDATE baton.executions SET status = 'running', claimable = false, started_at = now() WHERE id = $1`,
      [id],
    );
    server = await startServer({ store, logger: quietLogger(), port: 0, configDir: dir });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports per queue the completions, failures, throughput and latency percentiles of the last 5 minutes', async () => {
    const { items } = (await (await get('/api/queues')).json()) as { items: { name: string }[] };
    expect(items.find((q) => q.name === 'stats')).toEqual({
      name: 'stats',
      ready: 1,
      scheduled: 0,
      running: 1,
      waiting: 0,
      concurrencyLimit: null,
      rateLimit: null,
      recent: {
        windowMs: 300_000,
        completed: 19,
        failed: 1,
        throughputPerSecond: 20 / 300,
        // percentile_disc over 20 values: the 10th, 19th and 20th.
        latencyMs: { p50: 10_000, p95: 19_000, p99: 100_000 },
        runMs: { p50: 1000, p95: 1900, p99: 10_000 },
      },
    });
    const doc = (await (await get('/openapi.json')).json()) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(doc.components.schemas.Queue.required).toContain('recent');
    expect(doc.components.schemas.Queue.properties.recent.description).toContain('last 5 minutes');
  });

  it('serves executions by status, and each queue’s recent figures, as gauges read when scraped', async () => {
    const text = await scrape();
    const executions = (status: string) => sample(text, 'baton_executions', { status });
    expect(['queued', 'running', 'waiting', 'completed', 'failed', 'cancelled'].map(executions)).toEqual([
      1, 1, 0, 20, 1, 1,
    ]);
    expect(sample(text, 'baton_queue_finished', { queue: 'stats', status: 'completed' })).toBe(19);
    expect(sample(text, 'baton_queue_finished', { queue: 'stats', status: 'failed' })).toBe(1);
    expect(sample(text, 'baton_queue_throughput_per_second', { queue: 'stats' })).toBeCloseTo(20 / 300, 10);
    const latency = (quantile: string) =>
      sample(text, 'baton_queue_latency_seconds', { queue: 'stats', quantile });
    expect(['0.5', '0.95', '0.99'].map(latency)).toEqual([10, 19, 100]);
    const run = (quantile: string) => sample(text, 'baton_queue_run_seconds', { queue: 'stats', quantile });
    expect(['0.5', '0.95', '0.99'].map(run)).toEqual([1, 1.9, 10]);

    // Read anew at each scrape.
    await finished('failed', 1_000, 1_000, 1_000);
    const again = await scrape();
    expect(sample(again, 'baton_executions', { status: 'failed' })).toBe(2);
    expect(sample(again, 'baton_queue_finished', { queue: 'stats', status: 'failed' })).toBe(2);
  });

  it('counts open Architect tasks by SLA severity as their clocks run', async () => {
    const send = async (type: string) => {
      const res = await fetch(`${server.url}/api/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type, prompt: `a ${type} task` }),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const age = (id: string, ms: number) =>
      store.driver.query(
        `UPDATE baton.architect_tasks SET created_at = created_at - $2, service_key = service_key - $2 WHERE id = $1`,
        [id, ms],
      );
    const severities = async () => {
      const text = await scrape();
      return ['ok', 'warning', 'critical'].map((severity) => sample(text, 'baton_sla_tasks', { severity }));
    };
    expect(await severities()).toEqual([0, 0, 0]);
    const tmux = await send('tmux'); // a 1-minute target
    const git = await send('git'); // 3 minutes, warning at 80 %
    await send('deploy'); // 30 minutes
    expect(await severities()).toEqual([3, 0, 0]);
    await age(tmux, 120_000); // 200 %
    await age(git, 150_000); // 83 %
    expect(await severities()).toEqual([1, 1, 1]);
  });
});

describe.each(BACKENDS)('failures grouped by error on $name', (backend) => {
  let store: Store;
  let server: RunningServer;
  const other = defineJob('errors.other', {}, async () => 'done');

  /** A failure of `job` with `error`, finished `agoMs` ago. */
  const fail = async (def: typeof job, error: object | null, agoMs: number) => {
    const { id } = await new Client(store).enqueue(def, {});
    await store.driver.query(
      `UPDATE baton.executions SET status = 'failed', claimable = false, error = $2::jsonb,
         finished_at = now() - $3::float8 * interval '1 millisecond' WHERE id = $1`,
      [id, error === null ? null : JSON.stringify(error), agoMs],
    );
    return id;
  };

  beforeAll(async () => {
    store = await backend.open();
    await store.migrate();
    server = await startServer({ store, logger: quietLogger(), port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  it('counts every failure (not a page of them) by code and message, the largest group first', async () => {
    // 1,050 declined cards: more than the newest 1,000 the dashboard used to group in the page.
    const declined = { code: 'E_DECLINED', message: 'card declined' };
    const enqueued = await new Client(store).enqueueMany(
      job,
      Array.from({ length: 1050 }, () => ({ input: {} })),
    );
    await store.driver.query(
      `UPDATE baton.executions SET status = 'failed', claimable = false, error = $2::jsonb,
         finished_at = now() - interval '1 hour' WHERE id = ANY($1)`,
      [enqueued.map((e) => e.id), JSON.stringify(declined)],
    );
    const newest = await fail(other, declined, 1000);
    // Same message, another code: another group. A class name stands in for a missing code.
    await fail(job, { code: 'E_TIMEOUT', message: 'card declined' }, 2000);
    await fail(job, { name: 'TypeError', message: 'x is undefined' }, 60_000);
    await fail(job, null, 120_000);
    // Finished, not failed: not counted.
    await new Client(store).enqueue(job, {});

    const res = await fetch(`${server.url}/api/errors`);
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as {
      items: {
        code: string | null;
        message: string | null;
        count: number;
        names: string[];
        exampleId: string;
        lastSeenAt: string;
      }[];
    };
    expect(items.map((g) => [g.code, g.message, g.count])).toEqual([
      ['E_DECLINED', 'card declined', 1051],
      ['E_TIMEOUT', 'card declined', 1],
      ['TypeError', 'x is undefined', 1],
      [null, null, 1],
    ]);
    expect(items[0]!.names).toEqual(['errors.other', 'stats.job']);
    expect(items[0]!.exampleId).toBe(newest);
    expect(Date.now() - Date.parse(items[0]!.lastSeenAt)).toBeLessThan(60_000);

    // Since: only what failed in the last 30 s; limit: the largest groups.
    const since = new Date(Date.now() - 30_000).toISOString();
    const recent = (await (await fetch(`${server.url}/api/errors?since=${since}`)).json()) as {
      items: { code: string; count: number }[];
    };
    expect(recent.items.map((g) => [g.code, g.count])).toEqual([
      ['E_DECLINED', 1],
      ['E_TIMEOUT', 1],
    ]);
    const top = (await (await fetch(`${server.url}/api/errors?limit=1`)).json()) as { items: unknown[] };
    expect(top.items).toHaveLength(1);
  });

  it('refuses a bad since or limit with a 400 that names the field', async () => {
    for (const q of ['since=yesterday', 'limit=0', 'limit=1001', 'limit=many']) {
      const res = await fetch(`${server.url}/api/errors?${q}`);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('E_INPUT_INVALID');
      expect(body.error.message).toContain(q.split('=')[0]);
    }
  });
});

describe('a server without SLA rules', () => {
  it('has no SLA gauge, and every status in the executions gauge', async () => {
    const store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    const server = await startServer({ store, logger: quietLogger(), port: 0 });
    try {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).not.toContain('baton_sla_tasks');
      for (const status of ['queued', 'running', 'waiting', 'completed', 'failed', 'cancelled'])
        expect(sample(text, 'baton_executions', { status })).toBe(0);
    } finally {
      await server.close();
      await store.close();
    }
  });
});
