// YAML workflows: validation at file:line:col, and runs on the durable engine (PGlite, and PostgreSQL
// when BATON_PG_URL is set) through every step type the interpreter runs, error handling,
// compensation, approvals and version pinning.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Client,
  Store,
  Worker,
  type JobDefinition,
  type ScheduleDefinition,
  type WorkflowDefinition,
} from '@baton/core';
import { eventually, freshDatabase, quietLogger } from '../../core/test/backends.js';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/diagnostics.js';
import type { Config } from '../src/config/config.js';
import { createFlows, defineFlowFunction, type Flows } from '../src/workflows/index.js';
import { configDir } from './config-helpers.js';
import { architectBackends } from './architect-helpers.js';

/** The diagnostics of a configuration that does not load, as `file:line:col message` lines. */
async function problems(yaml: string): Promise<string[]> {
  const dir = configDir({ 'base/workflows.yaml': yaml });
  try {
    await loadConfig(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => `${d.line}:${d.col} ${d.message}`);
  }
  throw new Error('expected the configuration to be refused');
}

const flow = (steps: string, extra = ''): string => `workflows:\n  w:\n    steps:\n${steps}${extra}`;

describe('validation', () => {
  it('points an unterminated ${ at its character', async () => {
    const p = await problems(
      flow(`      - id: a\n        type: set\n        vars: { x: "n = \${input.n" }\n`),
    );
    expect(p).toEqual([expect.stringMatching(/^6:25 unterminated '\$\{'/)]);
  });

  it('points a condition syntax error inside the string, with the language message', async () => {
    const p = await problems(
      flow(
        `      - id: a\n        type: conditional\n        condition: "\${input.n} >> 2"\n        if_true: { type: set, vars: { x: 1 } }\n`,
      ),
    );
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^6:33 expected a value but found '>'/);
  });

  it('refuses a reference to a later step, an unknown step and an unknown name', async () => {
    const p = await problems(
      flow(
        `      - id: a\n        type: set\n        vars: { x: "\${steps.b.v}", y: "\${steps.nope}", z: "\${inptu.q}" }\n      - id: b\n        type: set\n        vars: { v: 1 }\n`,
      ),
    );
    expect(p).toEqual([
      expect.stringMatching(/^6:29 step 'b' comes later in the workflow/),
      expect.stringMatching(/^6:48 no step has the id 'nope'/),
      expect.stringMatching(/^6:62 unknown name 'inptu' \(did you mean 'input'\?\)/),
    ]);
  });

  it('refuses item outside a foreach, a subflow cycle, an http host not allowed and a bad input spec', async () => {
    const p = await problems(`settings:
  http_allowed_hosts: [api.example.com]
workflows:
  a:
    input: { n: integer, m: bogus }
    steps:
      - { id: s, type: set, vars: { i: "\${item}" } }
      - { id: c, type: subflow, workflow: b }
      - { id: h, type: http, url: "https://evil.example.org/x" }
  b:
    steps:
      - { id: c, type: subflow, workflow: a }
`);
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^5:29 input field 'm': unknown type 'bogus'/),
        expect.stringMatching(/^7:43 'item' exists only inside the steps of a foreach/),
        expect.stringMatching(/^12:43 subflow cycle: a → b → a/),
        expect.stringMatching(/^9:35 host 'evil.example.org' is not allowed/),
      ]),
    );
    expect(p.filter((l) => l.includes('subflow cycle'))).toHaveLength(1);
  });

  it('refuses a bad cron, a scheduled workflow that needs input, a filter reading other names, a bad name', async () => {
    const p = await problems(`workflows:
  a:
    trigger: { type: schedule, cron: '61 * * * *' }
    steps: [ { id: s, type: set, vars: {} } ]
  b:
    trigger: { type: schedule, cron: '@hourly' }
    input: { n: integer }
    steps: [ { id: s, type: set, vars: {} } ]
  c:
    trigger: { type: event, event: e, filter: 'input.n > 1' }
    steps: [ { id: s, type: set, vars: {} } ]
  "bad name":
    steps: [ { id: s, type: set, vars: {} } ]
`);
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^3:\d+ .*cron '61 \* \* \* \*' is invalid/),
        expect.stringMatching(/^6:\d+ a scheduled run starts with no input, and the input spec requires n/),
        expect.stringMatching(/^10:\d+ unknown name 'input': an event filter reads event/),
        expect.stringMatching(/workflow name 'bad name'/),
      ]),
    );
  });

  it.each([
    [
      'an unknown step type',
      '      - { id: a, type: teleport }\n',
      /^4:24 expected one of 'database'.*found 'teleport'/,
    ],
    [
      'a missing required field',
      '      - { id: b, type: function }\n',
      /^4:9 .*a function step needs 'function'/,
    ],
    [
      'a duplicate step id',
      '      - { id: b, type: set, vars: {} }\n      - { id: b, type: set, vars: {} }\n',
      /^5:15 .*step id 'b' is used twice/,
    ],
    [
      'a loop without max_iterations',
      '      - { id: l, type: loop, actions: [ { type: set, vars: {} } ] }\n',
      /^4:9 a loop step needs 'max_iterations', so that every loop is bounded/,
    ],
  ])('refuses %s, as the schema sees it', async (_what, steps, want) => {
    const p = await problems(flow(steps));
    expect(p.join('\n')).toMatch(want);
  });

  it("accepts the seed's own templates and conditions", async () => {
    const dir = configDir({
      'base/workflows.yaml': flow(`      - id: create_task
        type: set
        vars: { type: bug_fix, status: pending }
      - id: monitor
        type: loop
        condition: "\${steps.create_task.status} NOT IN ('completed', 'failed')"
        max_iterations: 2
        actions:
          - type: conditional
            condition: "\${query.elapsed_minutes} > \${config.sla_rules[steps.create_task.type].target_minutes}"
            if_true: { type: notification, channel: dashboard, message: "Task \${steps.create_task.id} exceeded SLA" }
`),
    });
    const config = await loadConfig(dir);
    expect(config.get('workflows.workflows.w.steps[1].condition')).toContain('NOT IN');
  });
});

const BASE = `settings:
  env: [FLOWS_TEST_REGION]
  queues: { narrow: { concurrency: 2 } }
workflows:
  narrowed:
    steps:
      - id: each
        type: foreach
        items: [1, 2, 3, 4, 5, 6]
        concurrency: 4
        steps:
          - { type: function, function: crowd, queue: narrow, input: { n: '\${item}' } }
  everything:
    input:
      items: list
      kind: { type: string, enum: [bug, feature], default: bug }
    steps:
      - id: start
        type: set
        vars: { total: 0, label: "run for \${input.kind}" }
      - id: doubled
        type: foreach
        items: input.items
        concurrency: 2
        steps:
          - id: twice
            type: function
            function: double
            input: { n: "\${item}", at: "\${index}" }
      - id: pick
        type: switch
        value: input.kind
        cases:
          bug: { type: set, vars: { lane: urgent } }
        default: { type: set, vars: { lane: normal } }
      - id: both
        type: parallel
        branches:
          - { type: function, function: double, input: { n: 100 } }
          - { type: function, function: double, input: { n: 200 } }
      - id: count
        type: loop
        condition: "\${vars.total} < 3"
        max_iterations: 5
        actions:
          - { type: set, vars: { total: "\${vars.total + 1}" } }
      - id: region
        type: set
        vars: { region: "\${coalesce(env.FLOWS_TEST_REGION, 'none')}", target: "\${config.sla_rules['deploy'].target_minutes}" }
      - { id: copy, type: set, vars: { items: '\${input.items}', first: '\${input.items[0]}', said: 'items: \${input.items}' } }
  guarded:
    input: { go: boolean }
    steps:
      - { id: maybe, type: function, function: record, input: { what: guarded }, if: '\${input.go}' }
      - { id: after, type: set, vars: { ran: '\${steps.maybe.ok}' } }
  slow_step:
    steps:
      - { id: slow, type: function, function: sleepy, timeout: 200ms }
      - { id: after, type: set, vars: { timed_out: '\${steps.slow.error.code}' } }
    error_handling:
      - { on_error: timeout, action: continue }
  retried_by_handler:
    steps:
      - { id: once_broken, type: function, function: fails_once }
    error_handling:
      - { on_error: any, action: retry }
  failed_by_handler:
    steps:
      - { id: boom, type: fail, message: stop here }
      - { id: never, type: function, function: record, input: { what: never } }
    error_handling:
      - { on_error: any, action: fail }
    finally:
      - { id: cleanup, type: function, function: record, input: { what: "cleanup after \${error.step}" } }
  calls_missing:
    steps:
      - { id: first, type: function, function: record, input: { what: before the missing one } }
      - { id: second, type: function, function: nowhere_registered }
  saga:
    steps:
      - id: reserve
        type: function
        function: record
        input: { what: reserve }
        compensate: { type: function, function: record, input: { what: unreserve } }
      - id: charge
        type: function
        function: record
        input: { what: charge }
        compensate: { type: function, function: record, input: { what: refund } }
      - id: ship
        type: function
        function: explode
        retry: { max_attempts: 2, backoff: { base_delay: 10ms } }
    error_handling:
      - on_error: any
        action: rollback
        steps: [reserve, charge]
    finally:
      - { id: done, type: function, function: record, input: { what: "finally \${error.code}" } }
  tolerant:
    steps:
      - { id: bad, type: fail, message: "no \${input.thing}" }
      - { id: after, type: set, vars: { went_on: "\${steps.bad.error.code}" } }
    error_handling:
      - { on_error: E_FLOW_FAILED, action: continue }
  waits:
    steps:
      - { id: pause, type: wait, duration: 300ms }
      - { id: until, type: wait, until: 'now + 300' }
      - id: quick_gate
        type: wait
        approval: { prompt: 'Quick?' }
        timeout: 400ms
    error_handling:
      - { on_error: E_APPROVAL_DENIED, action: continue }
  parent:
    input: { items: any }
    steps:
      - { id: child, type: subflow, workflow: waits_child, input: { n: 20 } }
      - { id: loose, type: subflow, workflow: waits_child, input: { n: 1 }, wait: false }
      - id: each
        type: foreach
        items: input.items
        steps: [ { type: set, vars: { seen: '\${item}' } } ]
  waits_child:
    input: { n: integer }
    steps:
      - { id: double, type: function, function: double, input: { n: '\${input.n}' } }
  approval:
    steps:
      - id: gate
        type: wait
        approval: { prompt: "Ship \${coalesce(input.what, 'it')}?", approvers: [ada] }
        timeout: 1h
      - { id: after, type: set, vars: { by: "\${steps.gate.by}" } }
  rerunnable:
    steps:
      - { id: a, type: function, function: count, input: { step: a } }
      - { id: b, type: function, function: flaky, input: { from: '\${steps.a.step}' } }
      - { id: c, type: set, vars: { done: '\${steps.b.ok}' } }
  placer:
    input: { total: number }
    steps:
      - { id: placed, type: emit, event: order.placed, data: { total: '\${input.total}' } }
  big_orders:
    trigger: { type: event, event: order.placed, filter: 'data.total > 100' }
    input: { total: number }
    steps:
      - { id: seen, type: set, vars: { total: '\${input.total}' } }
  ticker:
    trigger: { type: schedule, cron: '* * * * * *' }
    steps:
      - { id: tick, type: set, vars: { at: '\${now}' } }
  versioned:
    steps:
      - { id: wait, type: wait, signal: go, timeout: 1h }
      - { id: v, type: set, vars: { version: one } }
`;

const SLA = `sla_targets:\n  default: { target_minutes: 60 }\n  bug_fix: { target_minutes: 30 }\n`;

describe.each(architectBackends())('runs on %s', (backend) => {
  let store: Store;
  let client: Client;
  let dir: string;
  let config: Config;
  let flows: Flows;
  let worker: Worker;
  const calls: string[] = [];
  const counts = { explode: 0, a: 0, failsOnce: 0 };
  let flakyBroken = true;
  /** Activities of `crowd` running now, and the most at once. */
  const crowd = { now: 0, max: 0 };

  const functions = [
    defineFlowFunction('double', (input) => ({ n: (input as { n: number }).n * 2 })),
    defineFlowFunction('record', (input) => {
      calls.push((input as { what: string }).what);
      return { ok: true };
    }),
    defineFlowFunction('crowd', async (input) => {
      crowd.now++;
      crowd.max = Math.max(crowd.max, crowd.now);
      await new Promise((r) => setTimeout(r, 150));
      crowd.now--;
      return input;
    }),
    defineFlowFunction('count', (input) => {
      counts.a++;
      return input;
    }),
    defineFlowFunction('flaky', () => {
      if (flakyBroken) throw new Error('b is broken');
      return { ok: true };
    }),
    defineFlowFunction('sleepy', async (_input, ctx) => {
      await new Promise((r) => setTimeout(r, 2000));
      return { woke: !ctx.signal.aborted };
    }),
    defineFlowFunction('fails_once', () => {
      if (++counts.failsOnce === 1) throw new Error('first try fails');
      return { tries: counts.failsOnce };
    }),
    defineFlowFunction('explode', () => {
      counts.explode++;
      throw new Error('the warehouse is on fire');
    }),
  ];

  async function startWorker(
    defs: readonly WorkflowDefinition[],
    jobs: readonly JobDefinition[] = [],
    schedules: readonly ScheduleDefinition[] = [],
  ): Promise<Worker> {
    const w = new Worker(store, {
      workflows: [...defs],
      jobs: [...jobs],
      schedules: [...schedules],
      queues: ['flows', 'narrow'],
      concurrency: 10,
      pollInterval: 50,
      logger: quietLogger(),
    });
    await w.start();
    return w;
  }

  beforeAll(async () => {
    const url = backend === 'postgres' ? await freshDatabase() : undefined;
    store = await Store.open(
      url ? { databaseUrl: url, logger: quietLogger() } : { dataDir: 'memory://', logger: quietLogger() },
    );
    await store.migrate();
    client = new Client(store);
    dir = configDir({ 'base/workflows.yaml': BASE, 'base/sla_rules.yaml': SLA });
    config = await loadConfig(dir);
    process.env.FLOWS_TEST_REGION = 'eu-west';
    flows = await createFlows({ store, config: () => config, functions, logger: quietLogger() });
    worker = await startWorker(flows.definitions, flows.jobs, flows.schedules);
  });
  afterAll(async () => {
    await worker.stop({ deadline: 2000 });
    await store.close();
    delete process.env.FLOWS_TEST_REGION;
  });

  it('runs foreach, switch, parallel, loop and set, with env and config aliases', async () => {
    const { id } = await flows.start('everything', { items: [1, 2, 3] });
    const out = await client.result<{ steps: Record<string, unknown>; vars: Record<string, unknown> }>(id, {
      timeout: '20s',
    });
    expect(out.steps.doubled).toEqual([{ n: 2 }, { n: 4 }, { n: 6 }]);
    expect(out.vars).toMatchObject({
      label: 'run for bug',
      lane: 'urgent',
      total: 3,
      region: 'eu-west',
      target: 60,
    });
    expect(out.steps.both).toEqual([{ n: 200 }, { n: 400 }]);
    expect(out.steps.count).toMatchObject({ iterations: 3 });
    // A value that is exactly one ${} keeps its type; text with a ${} part is text.
    expect(out.vars).toMatchObject({ items: [1, 2, 3], first: 1, said: 'items: [1,2,3]' });
    // Steps are named after their ids in the history: `baton workflows show` reads like the YAML.
    const names = (await client.describe(id)).history.map((h) => h.name);
    expect(names).toEqual(expect.arrayContaining(['doubled.twice', 'both[0].function', 'both[1].function']));
  });

  it("takes a switch's default when no case matches", async () => {
    const { id } = await flows.start('everything', { items: [], kind: 'feature' });
    const out = await client.result<{ vars: Record<string, unknown> }>(id, { timeout: '20s' });
    expect(out.vars.lane).toBe('normal');
  });

  it("runs a step only when its if holds; a skipped step's fields read null", async () => {
    calls.length = 0;
    const skipped = await flows.start('guarded', { go: false });
    const a = await client.result<{ vars: Record<string, unknown> }>(skipped.id, { timeout: '20s' });
    expect(a.vars.ran).toBeNull();
    expect(calls).toEqual([]);
    const ran = await flows.start('guarded', { go: true });
    const b = await client.result<{ vars: Record<string, unknown> }>(ran.id, { timeout: '20s' });
    expect(b.vars.ran).toBe(true);
    expect(calls).toEqual(['guarded']);
  });

  it('times a step out at its timeout, and an on_error: timeout handler takes it', async () => {
    const started = Date.now();
    const { id } = await flows.start('slow_step');
    const out = await client.result<{ vars: Record<string, unknown> }>(id, { timeout: '20s' });
    expect(out.vars.timed_out).toBe('E_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1900); // the function sleeps 2 s; its step gave up first
  });

  it('retries a failed step when a handler says retry, and fails the run when one says fail (finally still runs)', async () => {
    counts.failsOnce = 0;
    const retried = await flows.start('retried_by_handler');
    const out = await client.result<{ steps: Record<string, unknown> }>(retried.id, { timeout: '20s' });
    expect(out.steps.once_broken).toEqual({ tries: 2 });

    calls.length = 0;
    const failed = await flows.start('failed_by_handler');
    await expect(client.result(failed.id, { timeout: '20s' })).rejects.toThrow(/stop here/);
    expect(calls).toEqual(['cleanup after boom']);
  });

  it('fails a run that calls a function this worker does not have before any step runs', async () => {
    calls.length = 0;
    const { id } = await flows.start('calls_missing');
    await expect(client.result(id, { timeout: '20s' })).rejects.toThrow(
      /calls 'nowhere_registered', which no module of this worker registers .*no step ran/,
    );
    expect(calls).toEqual([]);
    expect((await client.describe(id)).history).toEqual([]);
    expect(flows.check('calls_missing')).toEqual([
      expect.stringMatching(/workflows\.yaml:\d+:\d+: .*unknown function 'nowhere_registered'/),
    ]);
    expect(flows.check('saga')).toEqual([]);
  });

  it('refuses an input that fails the spec, before anything starts, pointing at the spec', async () => {
    await expect(flows.start('everything', { items: 'nope' })).rejects.toThrow(
      /input of workflow 'everything': field 'items' must be a list, got "nope" \(the input spec at \S+workflows\.yaml:\d+:\d+\)/,
    );
    await expect(flows.start('everything', { items: [], kind: 'chore' })).rejects.toThrow(
      /must be one of "bug", "feature"/,
    );
    await expect(flows.start('everything', { itmes: [] })).rejects.toThrow(
      /unknown field 'itmes' \(did you mean 'items'\?\)/,
    );
    await expect(flows.start('nope')).rejects.toThrow(/no YAML workflow 'nope'/);
  });

  it('retries a step, then rolls back completed steps newest first, and runs finally', async () => {
    calls.length = 0;
    const { id } = await flows.start('saga');
    await expect(client.result(id, { timeout: '20s' })).rejects.toThrow(/the warehouse is on fire/);
    expect(counts.explode).toBe(2);
    expect(calls).toEqual(['reserve', 'charge', 'refund', 'unreserve', 'finally E_JOB_FAILED']);
    const e = await client.get(id);
    expect(e.error?.code).toBe('E_FLOW_FAILED');
  });

  it('continues past a failed step when a handler says so', async () => {
    const { id } = await flows.start('tolerant', { thing: 'widgets' });
    const out = await client.result<{ steps: Record<string, unknown>; vars: Record<string, unknown> }>(id, {
      timeout: '20s',
    });
    expect(out.steps.bad).toEqual({ error: { code: 'E_FLOW_FAILED', message: 'no widgets' } });
    expect(out.vars.went_on).toBe('E_FLOW_FAILED');
  });

  it('waits for an approval from an allowed approver, ignoring others', async () => {
    const { id } = await flows.start('approval', { what: 'v1.2' });
    // The prompt is a template, published rendered.
    expect(await client.getEvent(id, 'approval:gate', { timeout: '10s' })).toEqual({
      prompt: 'Ship v1.2?',
      approvers: ['ada'],
    });
    await client.signal(id, 'approve:gate', { approved: true, by: 'mallory' });
    await client.signal(id, 'approve:gate', { approved: true, by: 'ada', reason: 'looks good' });
    const out = await client.result<{ vars: Record<string, unknown> }>(id, { timeout: '20s' });
    expect(out.vars.by).toBe('ada');
  });

  it('fails on a denial, naming who denied it', async () => {
    const { id } = await flows.start('approval');
    await client.signal(id, 'approve:gate', { approved: false, by: 'ada', reason: 'not today' });
    await expect(client.result(id, { timeout: '20s' })).rejects.toThrow(/denied by ada: not today/);
  });

  it('waits a duration and until a time durably, and an approval not given in time is a denial', async () => {
    const { id } = await flows.start('waits');
    const out = await client.result<{ steps: Record<string, Record<string, unknown>> }>(id, {
      timeout: '20s',
    });
    expect(out.steps.quick_gate).toEqual({
      error: {
        code: 'E_APPROVAL_DENIED',
        message: expect.stringMatching(/no approval within 400ms, so it is denied/),
      },
    });
    const history = (await client.describe(id)).history;
    const sleeps = history.filter((h) => h.kind === 'sleep');
    expect(sleeps).toHaveLength(2);
    for (const h of sleeps)
      expect(h.finishedAt!.getTime() - h.startedAt.getTime()).toBeGreaterThanOrEqual(250);
  });

  it('runs a subflow and waits for its output, or starts one without waiting', async () => {
    const { id } = await flows.start('parent', { items: [1, 2] });
    const out = await client.result<{ steps: Record<string, any> }>(id, { timeout: '20s' }); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(out.steps.child.steps.double).toEqual({ n: 40 });
    const loose = await client.result<{ steps: Record<string, any> }>(out.steps.loose.id, { timeout: '20s' }); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(loose.steps.double).toEqual({ n: 2 });
    // Both children are in the parent's history, each after the step that pinned its version.
    const kinds = (await client.describe(id)).history.map((h) => `${h.kind} ${h.name}`);
    expect(kinds.filter((k) => k.startsWith('child'))).toHaveLength(2);
    expect(kinds).toEqual(expect.arrayContaining(['step child.start', 'step loose.start']));
  });

  it('fails a foreach over a value that is not a list, naming the step', async () => {
    const { id } = await flows.start('parent', { items: 'abc' });
    await expect(client.result(id, { timeout: '20s' })).rejects.toThrow(
      /step 'each' \(\S+workflows\.yaml:\d+:\d+\): foreach items gave a string, not a list/,
    );
  });

  it("runs a foreach of activities under the queue's global limit, whatever its own concurrency", async () => {
    const { id } = await flows.start('narrowed');
    const out = await client.result<{ steps: { each: { n: number }[] } }>(id, { timeout: '30s' });
    expect(out.steps.each.map((e) => e.n)).toEqual([1, 2, 3, 4, 5, 6]);
    // foreach allows 4 at once; the narrow queue (settings.queues) allows 2, across all workers.
    expect(crowd.max).toBe(2);
    const children = (await client.describe(id)).history.filter((h) => h.kind === 'activity');
    expect(children).toHaveLength(6);
  });

  it('starts the workflows an emitted event matches, once, with the payload as their input', async () => {
    const big = await flows.start('placer', { total: 150 });
    const out = await client.result<{ steps: { placed: { started: { workflow: string; id: string }[] } } }>(
      big.id,
      {
        timeout: '20s',
      },
    );
    expect(out.steps.placed.started).toEqual([
      { workflow: 'big_orders', id: expect.stringContaining(big.id) },
    ]);
    const child = await client.result<{ vars: { total: number } }>(out.steps.placed.started[0]!.id, {
      timeout: '20s',
    });
    expect(child.vars.total).toBe(150);
    const small = await flows.start('placer', { total: 50 });
    const none = await client.result<{ steps: { placed: { started: unknown[] } } }>(small.id, {
      timeout: '20s',
    });
    expect(none.steps.placed.started).toEqual([]);
    expect(await flows.emit('order.placed', { total: 101 })).toEqual([
      { workflow: 'big_orders', id: expect.any(String) },
    ]);
  });

  it('starts a scheduled workflow on its cron, one run per fire', async () => {
    await eventually(
      async () => (await client.list({ name: 'ticker', kind: 'workflow' })).length >= 2,
      10_000,
      'two ticks',
    );
    const runs = await client.list({ name: 'ticker', kind: 'workflow' });
    expect(new Set(runs.map((r) => r.id)).size).toBe(runs.length);
    expect(runs.every((r) => r.id.startsWith('ticker:schedule:'))).toBe(true);
  });

  it('plans a run without running anything: known values rendered, the rest marked', async () => {
    const before = { ...counts };
    const plan = flows.plan('everything', { items: [1, 2], kind: 'feature' });
    const byName = new Map(plan.steps.map((s) => [s.name, s]));
    expect(byName.get('start')!.values).toEqual({ vars: { total: 0, label: 'run for feature' } });
    expect(byName.get('doubled.twice')).toMatchObject({
      runs: 'maybe',
      values: { input: { n: '⟨item⟩', at: '⟨index⟩' } },
    });
    expect(byName.get('region')!.values).toEqual({ vars: { region: 'eu-west', target: 60 } });
    expect(counts).toEqual(before);
    expect(() => flows.plan('everything', { items: 3 })).toThrow(/field 'items' must be a list/);
  });

  it('reruns from a step: what ran before it is replayed from the copied history, not run again', async () => {
    flakyBroken = true;
    const first = await flows.start('rerunnable');
    await expect(client.result(first.id, { timeout: '20s' })).rejects.toThrow(/b is broken/);
    expect(counts.a).toBe(1);
    await expect(flows.rerun(first.id, 'bee')).rejects.toThrow(/no top-level step 'bee'.*did you mean 'b'/);
    await expect(flows.rerun(first.id, 'c')).rejects.toThrow(/never reached step 'c'/);
    flakyBroken = false;
    const again = await flows.rerun(first.id, 'b');
    expect(again.reused).toBe(1);
    const out = await client.result<{ vars: Record<string, unknown> }>(again.id, { timeout: '20s' });
    expect(out.vars.done).toBe(true);
    expect(counts.a).toBe(1);
    expect((await client.describe(again.id)).history.map((h) => h.name)).toEqual(['a', 'b']);
    // From a step that records nothing (a set): everything the completed run recorded is reused.
    const fromSet = await flows.rerun(again.id, 'c');
    expect(fromSet.reused).toBe(2);
    expect(await client.result(fromSet.id, { timeout: '20s' })).toMatchObject({ vars: { done: true } });
    expect(counts.a).toBe(1);
  });

  it('reruns after an approval from the step after it, reusing the answer', async () => {
    const { id } = await flows.start('approval', { what: 'v2' });
    await eventually(async () => (await client.get(id)).status === 'waiting', 10_000, 'the run to wait');
    await client.signal(id, 'approve:gate', { approved: true, by: 'ada' });
    const out = await client.result<{ vars: Record<string, unknown> }>(id, { timeout: '20s' });
    expect(out.vars.by).toBe('ada');
    const again = await flows.rerun(id, 'after');
    const rerun = await client.result<{ vars: Record<string, unknown> }>(again.id, { timeout: '20s' });
    expect(rerun.vars.by).toBe('ada');
  });

  it('keeps a run on the definition it started with across a reload', async () => {
    const old = await flows.start('versioned');
    writeFileSync(join(dir, 'base/workflows.yaml'), BASE.replace('version: one', 'version: two'));
    config = await loadConfig(dir);
    const fresh = await flows.start('versioned');
    expect(fresh.version).not.toBe(old.version);
    // A new worker (a restart after the edit) still runs the old run on the old definition.
    await worker.stop({ deadline: 2000 });
    const again = await createFlows({ store, config: () => config, functions, logger: quietLogger() });
    worker = await startWorker(again.definitions);
    await client.signal(old.id, 'go', {});
    await client.signal(fresh.id, 'go', {});
    const a = await client.result<{ vars: Record<string, unknown> }>(old.id, { timeout: '20s' });
    const b = await client.result<{ vars: Record<string, unknown> }>(fresh.id, { timeout: '20s' });
    expect([a.vars.version, b.vars.version]).toEqual(['one', 'two']);
  });
});
