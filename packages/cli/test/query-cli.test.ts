// `baton query` and `baton queries …` on the real binary, against the Architect example's data.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, cpSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeArchitectDb, type ArchitectData } from '../../../examples/architect/make-db.js';
import { baton } from './run-baton.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/architect/baton', import.meta.url));

let root = '';
let cfg = '';
let data: ArchitectData;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'baton-query-cli-'));
  cfg = join(root, 'baton');
  cpSync(EXAMPLE, cfg, { recursive: true });
  data = makeArchitectDb(join(root, 'data', 'architect.db'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const q = (args: string[]) => baton(['--config-dir', cfg, ...args]);

describe('baton query', () => {
  it('JSON output is {query, results, count}, as the seed’s query service answers', async () => {
    const r = await q([
      'query',
      'tasks_by_status',
      '--param',
      'status=pending',
      '--param',
      'limit=5',
      '--format',
      'json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['query', 'results', 'count']);
    const pending = data.tasks.filter((t) => t.status === 'pending');
    expect(out.query).toBe('tasks_by_status');
    expect(out.count).toBe(Math.min(5, pending.length));
    expect(out.results.every((row: { status: string }) => row.status === 'pending')).toBe(true);
    const maxPriority = Math.max(...pending.map((t) => t.priority));
    expect(out.results[0].priority).toBe(maxPriority);
  });

  it('table and CSV output; defaults apply', async () => {
    const t = await q(['query', 'stats_dashboard']);
    expect(t.code).toBe(0);
    expect(t.stdout.split('\n')[0]).toMatch(/^PENDING_TASKS +ACTIVE_TASKS +COMPLETED_TODAY/);
    expect(t.stderr).toMatch(/^1 row/);
    const csv = await q(['query', 'errors_unresolved', '--format', 'csv']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('error_type,message,source,occurrence_count,first_seen,last_seen,node_id');
    expect(lines.length - 1).toBeLessThanOrEqual(50);
  });

  it('bad input: unknown query, bad and missing params, injection stays data, bad flags', async () => {
    const unknown = await q(['query', 'tasks_by_statu']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /error \[E_NOT_FOUND\]: .*'tasks_by_statu'.*did you mean 'tasks_by_status'/,
    );
    const type = await q(['query', 'tasks_by_status', '--param', 'status=pending', '--param', 'limit=ten']);
    expect(type.code).toBe(1);
    expect(type.stderr).toMatch(
      /error \[E_INPUT_INVALID\]: query 'tasks_by_status': param 'limit' must be an integer, got 'ten'/,
    );
    const missing = await q(['query', 'tasks_by_status']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/E_INPUT_INVALID.*'status'/);
    const inject = await q([
      'query',
      'tasks_by_status',
      '--param',
      "status=x' OR '1'='1",
      '--format',
      'json',
    ]);
    expect(JSON.parse(inject.stdout).count).toBe(0);
    const drop = await q([
      'query',
      'tasks_by_status',
      '--param',
      "status='; DROP TABLE tasks; --",
      '--format',
      'json',
    ]);
    expect(JSON.parse(drop.stdout).count).toBe(0);
    const still = await q(['query', 'stats_dashboard', '--format', 'json']);
    expect(JSON.parse(still.stdout).results[0].pending_tasks).toBe(
      data.tasks.filter((t) => t.status === 'pending').length,
    );
    const noEq = await q(['query', 'tasks_by_status', '--param', 'status']);
    expect(noEq.stderr).toMatch(/--param 'status' is not name=value/);
    const twice = await q(['query', 'tasks_by_status', '--param', 'status=a', '--param', 'status=b']);
    expect(twice.stderr).toMatch(/--param status is given twice/);
    const fmt = await q(['query', 'stats_dashboard', '--format', 'xml']);
    expect(fmt.stderr).toMatch(/--format 'xml' is not one of table, json, csv/);
  });

  it('a query whose SQL is wrong is reported at load, with its name and file:line', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'baton-query-cli-broken-'));
    try {
      cpSync(cfg, join(broken, 'baton'), { recursive: true });
      cpSync(join(root, 'data'), join(broken, 'data'), { recursive: true });
      mkdirSync(join(broken, 'baton', 'local'));
      writeFileSync(
        join(broken, 'baton', 'local', 'queries.yaml'),
        'queries:\n  broken:\n    description: typo\n    sql: SELEC id FROM tasks\n    params: []\n',
      );
      const r = await baton(['--config-dir', join(broken, 'baton'), 'query', 'stats_dashboard']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /local\/queries\.yaml:\d+:\d+: error \[E_CONFIG_INVALID\] .*broken.*syntax error/,
      );
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe('baton queries', () => {
  it("list shows every fixture query, and the one the seed's workflows add", async () => {
    const r = await q(['queries', 'list', '--json']);
    expect(r.code).toBe(0);
    const names = JSON.parse(r.stdout).map((x: { name: string }) => x.name);
    expect(names).toHaveLength(14);
    expect(names).toContain('prompts_active_assignments');
    expect(names).toContain('tasks_by_id');
  });

  it('apply-indexes creates the declared indexes once, then reports them as existing', async () => {
    const first = await q(['queries', 'apply-indexes']);
    expect(first.code).toBe(0);
    expect(first.stdout.match(/^created /gm)).toHaveLength(6);
    const again = await q(['queries', 'apply-indexes']);
    expect(again.stdout.match(/^exists /gm)).toHaveLength(6);
    expect(again.stderr).toMatch(/0 created, 6 already existed/);
  });
});
