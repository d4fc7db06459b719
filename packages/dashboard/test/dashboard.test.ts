// The dashboard in a real browser (Debian's chromium, driven by playwright-core) against a real
// server and worker on an embedded store: the overview, filtering the executions list, a waiting
// workflow signalled from its page and completing live, a running job cancelled, a YAML workflow
// planned, run and approved, what a viewer sees,
// the keyboard, and a phone-sized screen. Screenshots of each view go to test-output/dashboard/.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, NonRetryableError, Store, Worker, defineJob, defineWorkflow } from '@baton/core';
import { ApiKeys, startServer, type RunningServer } from '@baton/server';
import {
  createArchitect,
  createFlows,
  loadConfig,
  rulesFromConfig,
  type Architect,
  type Flows,
} from '@baton/flows';
import { quietLogger } from '../../core/test/backends.js';

const CHROMIUM = '/usr/bin/chromium';
const QUERIES = [
  'queries:',
  '  executions_by_status:',
  '    description: Executions in one status',
  '    sql: SELECT id, name FROM baton.executions WHERE status::text = :status ORDER BY id',
  '    params:',
  '      - { name: status, type: string, required: true }',
  '',
].join('\n');
/** A YAML workflow for the Flows view: a set step, then an approval. */
const WORKFLOWS = [
  'workflows:',
  '  ship:',
  '    description: A release, approved before it ships',
  '    input: { version: string }',
  '    steps:',
  "      - { id: note, type: set, vars: { v: '${input.version}' } }",
  '      - id: gate',
  '        type: wait',
  "        approval: { prompt: 'Ship ${input.version}?' }",
  '        timeout: 1h',
  '',
].join('\n');
/** The colour ui_config.yaml gives to planned (pending) tasks. */
const PLANNED = '#123456';
const RULES = fileURLToPath(new URL('../../../examples/architect/baton/base/', import.meta.url));
const OUT = join(process.cwd(), 'test-output', 'dashboard');
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);

const approval = defineWorkflow('dash.approval', {}, async (ctx) => {
  const decision = await ctx.waitForSignal<{ ok: boolean }>('decision');
  return { decided: decision };
});
const slow = defineJob('dash.slow', {}, async (_input, ctx) => {
  await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
  throw new Error('stopped');
});
const charge = defineJob('dash.charge', {}, async () => {
  const err = new NonRetryableError('card declined');
  (err as Error & { code: string }).code = 'E_DECLINED';
  throw err;
});
const echo = defineJob('dash.echo', {}, async (input) => input);
/** Many of these make more than one page of the list. */
const paged = defineJob('dash.paged', {}, async (input) => input);

describe.skipIf(missing)('dashboard in chromium', () => {
  let store: Store;
  let worker: Worker;
  let server: RunningServer;
  let browser: Browser;
  let configDir: string;
  /** The test's handle on the Architect's tables: registers sessions, runs the SLA monitor. */
  let architect: Architect;
  let flows: Flows;
  let flowsWorker: Worker;
  const client = () => new Client(store);
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    worker = new Worker(store, {
      jobs: [slow, charge, echo, paged],
      workflows: [approval],
      pollInterval: 50,
    });
    await worker.start();
    // The seed's routing and SLA rules: the server runs the Architect, the dashboard its views.
    configDir = mkdtempSync(join(tmpdir(), 'baton-dashboard-config-'));
    mkdirSync(join(configDir, 'base'));
    for (const f of ['routing_rules.yaml', 'sla_rules.yaml'])
      copyFileSync(join(RULES, f), join(configDir, 'base', f));
    // Named queries on the store itself.
    writeFileSync(join(configDir, 'base', 'datasources.yaml'), 'datasources:\n  own:\n    type: baton\n');
    writeFileSync(join(configDir, 'base', 'queries.yaml'), QUERIES);
    writeFileSync(join(configDir, 'base', 'workflows.yaml'), WORKFLOWS);
    // The dashboard's layout: panels retitled and reordered, one status recoloured; the rest is the seed's.
    writeFileSync(
      join(configDir, 'base', 'ui_config.yaml'),
      [
        'theme:',
        '  colors:',
        '    status:',
        `      planned: "${PLANNED}"`,
        'dashboard_panels:',
        '  - { id: tasks, title: Work queue, order: 1, refresh_interval: 1 }',
        '  - { id: sessions, order: 2, refresh_interval: 1 }',
        '  - { id: errors, title: Failures, order: 3 }',
        '  - { id: projects, enabled: false }',
        '',
      ].join('\n'),
    );
    server = await startServer({ store, logger: quietLogger(), port: 0, rateLimit: null, configDir });
    const config = await loadConfig(configDir);
    architect = await createArchitect({ store, rules: () => rulesFromConfig(config), logger: quietLogger() });
    // The YAML workflows' runs, served as `baton flows worker` would.
    flows = await createFlows({ store, config: () => config, logger: quietLogger() });
    flowsWorker = new Worker(store, {
      workflows: [...flows.definitions],
      queues: ['flows'],
      pollInterval: 50,
      logger: quietLogger(),
    });
    await flowsWorker.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const c = client();
    for (let i = 0; i < 3; i++) await c.enqueue(echo, { i });
    await c.enqueue(charge, {});
    await c.enqueue(charge, {});
  });

  afterAll(async () => {
    writeFileSync(join(OUT, 'timings.json'), JSON.stringify(timings, null, 2));
    await browser?.close();
    await server?.close();
    await worker?.stop({ deadline: '5s' });
    await flowsWorker?.stop({ deadline: '5s' });
    await flows?.close();
    await store?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  async function page(size = { width: 1280, height: 800 }): Promise<Page> {
    const context = await browser.newContext({ viewport: size });
    const p = await context.newPage();
    p.on('pageerror', (err) => {
      throw err;
    });
    return p;
  }

  const shot = (p: Page, name: string) => p.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });

  it('renders the overview with live counts and queues', async () => {
    await client().enqueue(slow, {});
    const p = await page();
    const t0 = Date.now();
    await p.goto(`${server.url}/#/`);
    await p.getByTestId('count-running').filter({ hasText: /^\d+$/ }).waitFor();
    timings.overview_render_ms = Date.now() - t0;
    console.log(`overview rendered in ${timings.overview_render_ms} ms`);
    await expect.poll(() => p.getByTestId('count-running').textContent()).toBe('1');
    await expect.poll(() => p.getByTestId('live-state').textContent()).toBe('● live');
    await expect(p.getByRole('link', { name: 'default' }).count()).resolves.toBe(1);
    await expect(p.locator('.chart canvas').count()).resolves.toBe(2);
    // The queue's latency over the server's window: the echo jobs finished, so it has three figures.
    await expect
      .poll(() => p.getByTestId('latency-default').textContent())
      .toMatch(/^[\d.]+ m?s, [\d.]+ m?s, [\d.]+ m?s$/);
    // A completion while the page is open moves its live counter, with no reload.
    const before = Number(await p.getByTestId('count-completed').textContent());
    await client().enqueue(echo, { live: true });
    await expect
      .poll(async () => Number(await p.getByTestId('count-completed').textContent()))
      .toBe(before + 1);
    await shot(p, 'overview');
    await p.context().close();
  });

  it('lists executions, filters them, and groups failures by error', async () => {
    const p = await page();
    await p.goto(`${server.url}/#/`);
    await p.getByRole('link', { name: 'Executions' }).click();
    await expect.poll(() => p.getByTestId('execution-row').count()).toBeGreaterThanOrEqual(6);
    await p.getByLabel('status').selectOption('failed');
    await p.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => p.url()).toContain('#/executions?status=failed');
    await expect.poll(() => p.getByTestId('execution-row').count()).toBe(2);
    for (const row of await p.getByTestId('execution-row').all())
      await expect(row.textContent()).resolves.toContain('failed');
    await shot(p, 'executions');

    await p.getByRole('link', { name: 'Failures' }).click();
    const group = p.getByTestId('error-group');
    await expect.poll(() => group.count()).toBe(1);
    await expect(group.textContent()).resolves.toMatch(/^2E_DECLINEDcard declined/);
    await shot(p, 'errors');
    await p.context().close();
  });

  it('searches and pages the executions list, and cancels and retries in bulk, by ticked rows and by filter', async () => {
    const c = client();
    // 55 of a name of their own: more than one page of 50.
    await c.enqueueMany(
      paged,
      Array.from({ length: 55 }, (_, i) => ({ input: { i } })),
    );
    await expect
      .poll(async () => (await c.list({ name: 'dash.paged', status: 'completed', limit: 100 })).length)
      .toBe(55);
    // A queue no worker serves: what is sent there stays queued until someone acts on it.
    const parked = [];
    for (let i = 0; i < 5; i++) parked.push((await c.enqueue(echo, { parked: i }, { queue: 'parked' })).id);

    const p = await page();
    await p.goto(`${server.url}/#/executions`);
    await p.getByLabel('search').fill('paged');
    await p.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => p.url()).toContain('q=paged');
    const rows = p.getByTestId('execution-row');
    await expect.poll(() => rows.count()).toBe(50);
    const first = await rows.first().textContent();
    await p.getByRole('link', { name: 'Next page' }).click();
    await expect.poll(() => rows.count()).toBe(5);
    expect(await rows.first().textContent()).not.toBe(first);
    for (const row of await rows.all()) await expect(row.textContent()).resolves.toContain('dash.paged');
    await expect(p.getByRole('link', { name: 'Next page' }).count()).resolves.toBe(0);
    await p.getByRole('link', { name: 'First page' }).click();
    await expect.poll(() => rows.count()).toBe(50);
    // A time range: nothing was created in 2099.
    await p.getByLabel('created from').fill('2099-01-01T00:00');
    await p.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => p.url()).toContain('since=2099-01-01T');
    await expect.poll(() => p.getByText('No execution matches.').count()).toBe(1);
    expect(await rows.count()).toBe(0);

    // Two ticked rows, cancelled.
    await p.goto(`${server.url}/#/executions?queue=parked`);
    await expect.poll(() => rows.count()).toBe(5);
    await p.getByLabel(`select ${parked[0]}`).check();
    await p.getByLabel(`select ${parked[1]}`).check();
    await p.getByRole('button', { name: 'Cancel selected' }).click();
    const outcome = p.getByLabel('bulk actions').getByRole('status');
    await expect.poll(() => outcome.textContent()).toBe('cancel: 2 done');
    expect((await c.get(parked[0]!)).status).toBe('cancelled');
    expect((await c.get(parked[2]!)).status).toBe('queued');

    // Everything the filters match, once confirmed: the three still queued.
    await p.getByLabel('status').selectOption('queued');
    await p.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count()).toBe(3);
    await p.getByRole('button', { name: 'Cancel all matching…' }).click();
    const confirm = p.getByRole('group', { name: 'confirm' });
    await expect(confirm.textContent()).resolves.toContain('(status queued, queue parked)');
    await confirm.getByRole('button', { name: 'Yes, cancel all' }).click();
    await expect.poll(() => outcome.textContent()).toBe('cancel: 3 done');
    await expect.poll(() => rows.count()).toBe(0);
    for (const id of parked) expect((await c.get(id)).status).toBe('cancelled');
    await shot(p, 'executions-bulk');

    // And back: the five cancelled ones retried by filter, then cancelled again to leave the queue empty.
    await p.goto(`${server.url}/#/executions?queue=parked&status=cancelled`);
    await expect.poll(() => rows.count()).toBe(5);
    await p.getByRole('button', { name: 'Retry all matching…' }).click();
    await p.getByRole('group', { name: 'confirm' }).getByRole('button', { name: 'Yes, retry all' }).click();
    await expect.poll(() => outcome.textContent()).toBe('retry: 5 done');
    for (const id of parked) expect((await c.get(id)).status).toBe('queued');
    for (const id of parked) await c.cancel(id);
    await p.context().close();
  });

  it('shows the workers with their heartbeats and queues', async () => {
    const p = await page();
    await p.goto(`${server.url}/#/workers`);
    const rows = p.getByTestId('worker-row');
    // The test's two workers: the engine's and the YAML workflows'.
    await expect.poll(() => rows.count()).toBe(2);
    await expect(rows.filter({ hasText: 'flows' }).textContent()).resolves.toContain('live');
    await expect(rows.filter({ hasText: 'default' }).textContent()).resolves.toMatch(
      /live [\d.]+ (ms|s) ago/,
    );
    await shot(p, 'workers');
    await p.context().close();
  });

  it('signals a waiting workflow from its page and shows it complete without a reload', async () => {
    const { id } = await client().start(approval, {});
    const p = await page();
    await p.goto(`${server.url}/#/executions?status=waiting`);
    await p.getByRole('link', { name: id }).click();
    const title = p.getByRole('heading', { level: 1 });
    await expect.poll(() => title.textContent()).toContain('waiting');
    await expect
      .poll(() => p.getByLabel('history timeline').getByRole('listitem').count())
      .toBeGreaterThanOrEqual(1);
    await shot(p, 'run-waiting');

    // A payload that is not JSON is refused on the page, before any call.
    await p.getByLabel('signal name').fill('decision');
    await p.getByLabel('payload (JSON)').fill('{ok: yes}');
    await p.getByRole('button', { name: 'Send signal' }).click();
    await expect(p.getByRole('alert').first().textContent()).resolves.toContain('not JSON');

    await p.getByLabel('payload (JSON)').fill('{"ok": true}');
    await p.getByRole('button', { name: 'Send signal' }).click();
    await expect.poll(() => title.textContent(), { timeout: 15_000 }).toContain('completed');
    await expect(p.locator('details.json', { hasText: 'output' }).textContent()).resolves.toContain(
      '"decided"',
    );
    await shot(p, 'run-completed');
    await p.context().close();
  });

  it('follows a run live: a signal sent elsewhere shows up on its open page', async () => {
    const { id } = await client().start(approval, {});
    const p = await page();
    await p.goto(`${server.url}/#/runs/${id}`);
    const title = p.getByRole('heading', { level: 1 });
    await expect.poll(() => title.textContent()).toContain('waiting');
    await expect.poll(() => p.getByTestId('live-state').textContent()).toBe('● live');
    await client().signal(id, 'decision', { ok: false });
    await expect.poll(() => title.textContent(), { timeout: 15_000 }).toContain('completed');
    await p.context().close();
  });

  it('cancels a running job from its page', async () => {
    const job = await client().enqueue(slow, {});
    await expect.poll(async () => (await client().get(job.id)).status).toBe('running');
    const p = await page();
    await p.goto(`${server.url}/#/runs/${job.id}`);
    const title = p.getByRole('heading', { level: 1 });
    await expect.poll(() => title.textContent()).toContain('running');
    await p.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => title.textContent(), { timeout: 15_000 }).toContain('cancelled');
    expect((await client().get(job.id)).status).toBe('cancelled');
    await shot(p, 'run-cancelled');
    await p.context().close();
  });

  it('works from the keyboard and on a phone-sized screen', async () => {
    const p = await page({ width: 390, height: 844 });
    await p.goto(`${server.url}/#/`);
    await p.getByTestId('count-running').filter({ hasText: /^\d+$/ }).waitFor();
    // No sideways scrolling of the page itself (wide tables scroll inside their box).
    expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot(p, 'overview-phone');
    // Tab: the skip link, the brand, then the views.
    await p.keyboard.press('Tab');
    await expect(p.evaluate<string>('document.activeElement?.textContent')).resolves.toBe('Skip to content');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Tab');
    await expect(p.evaluate<string>('document.activeElement?.textContent')).resolves.toBe('Executions');
    await p.keyboard.press('Enter');
    await expect.poll(() => p.url()).toContain('#/executions');
    await p.getByTestId('execution-row').first().waitFor();
    expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot(p, 'executions-phone');
    await p.context().close();
  });

  it("shows the task queue in the SLA rules' colours, turning as a task's clock runs, and acknowledges its alert", async () => {
    const res = await fetch(`${server.url}/api/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'tmux', prompt: 'list the panes' }),
    });
    const task = (await res.json()) as { id: string };
    await architect.sessions.register({ name: 'claude-1', provider: 'claude', adapter: 'client' });
    const p = await page();
    await p.goto(`${server.url}/#/`);
    // ui_config.yaml's order and titles, and the seed's task table in its colours.
    const nav = p.getByRole('navigation', { name: 'views' }).getByRole('link');
    await expect
      .poll(() => nav.allTextContents())
      .toEqual([
        'Overview',
        'Executions',
        'Work queue',
        'Sessions',
        'Failures',
        'Workers',
        'Flows',
        'Queries',
        'Config',
      ]);
    await p.getByRole('link', { name: 'Work queue' }).click();
    await expect.poll(() => p.getByRole('heading', { level: 1 }).textContent()).toBe('Work queue');
    const headers = await p.getByRole('columnheader').allTextContents();
    expect(headers.slice(0, 5)).toEqual(['ID', 'Type', 'Status', 'Priority ▼', 'Created']);
    const row = p.getByTestId('task-row').filter({ hasText: task.id });
    await expect(row.getByText('pending', { exact: true }).getAttribute('data-color')).resolves.toBe(PLANNED);
    const sla = p.getByTestId(`sla-${task.id}`);
    await expect.poll(() => sla.getAttribute('data-severity')).toBe('ok');
    await shot(p, 'tasks-ok');
    // Two minutes pass on its one-minute target (the clock is the task's send time).
    await store.driver.query(
      `UPDATE baton.architect_tasks SET created_at = created_at - 120000, service_key = service_key - 120000,
       assigned_at = assigned_at - 120000 WHERE id = $1`,
      [task.id],
    );
    await expect.poll(() => sla.getAttribute('data-severity'), { timeout: 15_000 }).toBe('critical');
    await expect(sla.textContent()).resolves.toMatch(/^\d{3}% critical$/);
    await architect.checkSla();
    const alert = p.getByTestId('alert').filter({ hasText: task.id });
    await alert.getByRole('button', { name: 'Acknowledge' }).click({ timeout: 15_000 });
    await expect.poll(() => alert.textContent()).toContain('acknowledged by local');
    await shot(p, 'tasks-critical');

    // ui_config.yaml's enable_filters: a column with few values filters by one of them.
    await fetch(`${server.url}/api/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'documentation', prompt: 'document the panes' }),
    });
    const rows = p.getByTestId('task-row');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
    const byType = p.getByLabel('filter Type');
    await expect(byType.locator('option').allTextContents()).resolves.toEqual([
      'any',
      'documentation',
      'tmux',
    ]);
    await byType.selectOption('tmux');
    await expect.poll(() => rows.count()).toBe(1);
    await expect(rows.first().textContent()).resolves.toContain(task.id);
    await byType.selectOption('');
    await expect.poll(() => rows.count()).toBe(2);

    await p.getByRole('link', { name: 'Sessions' }).click();
    const session = p.getByTestId('session-row').filter({ hasText: 'claude-1' });
    await session.getByRole('button', { name: 'Drain' }).click();
    await expect.poll(() => session.textContent()).toContain('draining');
    await shot(p, 'sessions');
    await p.context().close();
  });

  it('runs a named query with its typed params, keeping an injection attempt as data', async () => {
    const p = await page();
    await p.goto(`${server.url}/#/`);
    await p.getByRole('link', { name: 'Queries' }).click();
    await p.getByLabel('query').selectOption('executions_by_status');
    await p.getByLabel('status (required)').fill('failed');
    await p.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => p.getByTestId('query-row').count()).toBe(2);
    await expect.poll(() => p.url()).toContain('name=executions_by_status&p.status=failed&run=1');
    await shot(p, 'queries');
    await p.getByLabel('status (required)').fill("failed' OR '1'='1");
    await p.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => p.getByRole('status').last().textContent()).toBe('0 rows');
    await p.context().close();
  });

  it('lists the YAML workflows, plans one, runs it and approves it from the run page', async () => {
    const p = await page();
    await p.goto(`${server.url}/#/flows`);
    const row = p.getByTestId('flow-row').filter({ hasText: 'ship' });
    await expect.poll(() => row.textContent()).toContain('manual');
    await shot(p, 'flows');
    await row.getByRole('link', { name: 'ship' }).click();
    await expect.poll(() => p.getByRole('heading', { level: 2 }).first().textContent()).toBe('ship');

    // A dry run: what the input fixes is rendered; an input the spec refuses is said so.
    const input = p.getByLabel('input (JSON)');
    await input.fill('{"versio": "1.2"}');
    await p.getByRole('button', { name: 'Plan' }).click();
    await expect.poll(() => p.getByRole('alert').first().textContent()).toContain("unknown field 'versio'");
    await input.fill('{"version": "1.2"}');
    await p.getByRole('button', { name: 'Plan' }).click();
    const steps = p.getByTestId('plan-step');
    await expect.poll(() => steps.count()).toBe(2);
    await expect(steps.first().textContent()).resolves.toContain('"v":"1.2"');
    await shot(p, 'flows-plan');
    expect(await client().list({ name: 'ship', kind: 'workflow' })).toHaveLength(0);

    // A run, then its approval from the run's page; it completes live.
    await p.getByRole('button', { name: 'Run' }).click();
    const title = p.getByRole('heading', { level: 1 });
    await expect.poll(() => title.textContent(), { timeout: 15_000 }).toContain('waiting');
    const approvalForm = p.getByRole('form', { name: 'approval' });
    await expect.poll(() => approvalForm.textContent(), { timeout: 15_000 }).toContain('Ship 1.2?');
    await shot(p, 'flows-approval');
    await approvalForm.getByLabel('reason (optional)').fill('tested');
    await approvalForm.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => title.textContent(), { timeout: 15_000 }).toContain('completed');
    await expect(p.locator('details.json', { hasText: 'output' }).textContent()).resolves.toContain(
      '"reason": "tested"',
    );
    await p.context().close();
  });

  it('shows an admin the configuration, where a value comes from, and what is wrong with a bad edit', async () => {
    const p = await page();
    await p.goto(`${server.url}/#/config`);
    await expect.poll(() => p.locator('.facts').textContent()).toContain('base/sla_rules.yaml');
    await p.getByLabel('key path').fill('sla_rules.sla_targets.tmux.target_minutes');
    await p.getByRole('button', { name: 'Explain' }).click();
    const row = p.getByTestId('explain-row');
    await expect
      .poll(() => row.textContent())
      .toMatch(/^sla_rules\.sla_targets\.tmux\.target_minutes1base\/sla_rules\.yaml:\d+:\d+/);
    const good = QUERIES;
    writeFileSync(join(configDir, 'base', 'queries.yaml'), good.replace('type: string', 'type: strng'));
    try {
      await p.getByRole('button', { name: 'Validate the directory' }).click();
      await expect
        .poll(() => p.getByRole('status').last().textContent())
        .toMatch(/base\/queries\.yaml:6:\d+/);
      await shot(p, 'config');
    } finally {
      writeFileSync(join(configDir, 'base', 'queries.yaml'), good);
    }
    await p.getByRole('button', { name: 'Validate the directory' }).click();
    await expect.poll(() => p.getByRole('status').last().textContent()).toContain('valid');
    await p.context().close();
  });

  // Last: once a key exists, the server asks every caller for one.
  it('asks a viewer for a key, then shows errors without stack traces and no actions', async () => {
    const keys = new ApiKeys(store.driver);
    const admin = await keys.create('admin', 'test-admin');
    const viewer = await keys.create('viewer', 'test-viewer');
    try {
      const [failed] = (await client().list({ status: 'failed', name: 'dash.charge', limit: 1 }))!;
      expect(failed!.error?.stack).toContain('dashboard.test.ts');
      const p = await page();
      // The server re-reads whether keys exist every 2 s.
      await new Promise((r) => setTimeout(r, 2100));
      await p.goto(`${server.url}/#/runs/${failed!.id}`);
      await p.getByLabel('API key').fill('bk_0000000000000000_not-a-key-at-all-not-a-key-at-all-not-a');
      await p.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => p.getByRole('alert').first().textContent()).toContain('refused');
      await p.getByLabel('API key').fill(viewer.key);
      await p.getByRole('button', { name: 'Sign in' }).click();
      const title = p.getByRole('heading', { level: 1 });
      await expect.poll(() => title.textContent()).toContain('failed');
      await expect(p.locator('.error-box').first().textContent()).resolves.toContain('card declined');
      await expect(p.getByText('stack', { exact: true }).count()).resolves.toBe(0);
      await expect(p.getByRole('button', { name: 'Retry' }).count()).resolves.toBe(0);
      await expect(p.locator('.role').textContent()).resolves.toBe('viewer');
      await shot(p, 'run-as-viewer');
      await p.context().close();
    } finally {
      await keys.revoke(admin.info.id);
      await keys.revoke(viewer.info.id);
    }
  });
});
