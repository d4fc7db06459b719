// `npm run bench -- flows [--workflows N] [--in-flight N] [--runs N] [--warmup N] [--repeat R]
//   [--systems yaml,code]`
//
// A YAML workflow beside the same workflow written in code, on the local PostgreSQL (a fresh
// database per system run, dropped at the end), with one worker in this process (concurrency 20,
// prefetch 20). The workflow: three function steps (n + 1 each), a conditional whose branch is a
// set step, and a final set step (in code: three ctx.step calls, an if, two assignments).
//
// (a) Throughput: N workflows, IN_FLIGHT started-but-not-done at a time; the clock runs from the
//     first start until the last completion is durable (the worker's completion statement returned,
//     seen by wrapping the driver: bench/_completions.ts). 20 warm-up workflows first, untimed.
// (b) Latency: one workflow at a time, from the start call until its completion is durable; p50.
// (c) Load: a workflows.yaml of 200 workflows (each the seed's feature_development, renamed, with
//     its own step ids: 15,400 lines) loaded
//     and validated by loadConfig (schema, templates, references), with the rest of the example's
//     configuration directory it refers to (7 more files), median of 7 loads after a first one
//     (reported apart as the cold load), measured before the workflow runs.
//
// Every run's result is checked (input + 3). R repeats alternate the order of the two systems;
// the JSON gives the medians (the cold load is in the summary on stderr). Last line:
// {"suite":"flows","yaml_vs_code_throughput":N,"yaml_vs_code_latency_p50":N,"load_200_ms":N}
import { performance } from 'node:perf_hooks';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Store, Worker, createLogger, defineWorkflow, type WorkflowDefinition } from '@baton/core';
import { createFlows, defineFlowFunction, loadConfig } from '@baton/flows';
import { BenchDatabases, runSuite } from './_databases.js';
import { argValue, intArg } from './_args.js';
import { watchLoad } from './_load.js';
import { watchCompletions } from './_completions.js';

const WORKFLOWS = intArg('workflows', 1000);
const IN_FLIGHT = intArg('in-flight', 20);
const RUNS = intArg('runs', 200);
const WARMUP = intArg('warmup', 20, 0);
const REPEAT = intArg('repeat', 1);
const SYSTEMS = (argValue('systems')?.split(',') ?? ['yaml', 'code']).map((s) => {
  if (s !== 'yaml' && s !== 'code') throw new Error(`unknown system '${s}' in --systems (yaml, code)`);
  return s as System;
});
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const log = (msg: string) => process.stderr.write(`[flows] ${msg}\n`);
const now = () => performance.now();
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const percentile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const round = (x: number, d = 2) => Number(x.toFixed(d));

const YAML = `workflows:
  five:
    input: { n: integer }
    steps:
      - { id: s1, type: function, function: inc, input: { n: '\${input.n}' } }
      - { id: s2, type: function, function: inc, input: { n: '\${steps.s1.n}' } }
      - id: check
        type: conditional
        condition: '\${steps.s2.n} > 1'
        if_true: { type: set, vars: { big: true } }
        if_false: { type: set, vars: { big: false } }
      - { id: s3, type: function, function: inc, input: { n: '\${steps.s2.n}' } }
      - { id: done, type: set, vars: { result: '\${steps.s3.n}' } }
`;

const inc = (input: { n: number }) => ({ n: input.n + 1 });

const code = defineWorkflow('five-code', { queue: 'flows' }, async (ctx, input: { n: number }) => {
  const s1 = await ctx.step('s1', () => inc(input));
  const s2 = await ctx.step('s2', () => inc(s1));
  const vars: Record<string, unknown> = {};
  vars.big = s2.n > 1;
  const s3 = await ctx.step('s3', () => inc(s2));
  vars.result = s3.n;
  return { steps: { s1, s2, s3 }, vars };
});

type System = 'yaml' | 'code';

interface Harness {
  start(i: number): Promise<{ started: number; done: Promise<number> }>;
  result(i: number): Promise<number>;
  close(): Promise<void>;
}

let runNo = 0;

async function open(system: System, url: string, configDir: string): Promise<Harness> {
  const store = await Store.open({ databaseUrl: url, logger: createLogger('warn') });
  await store.migrate();
  const completions = watchCompletions(store);
  const client = new Client(store);
  let def: WorkflowDefinition;
  let start: (id: string, n: number) => Promise<unknown>;
  let close = async () => {};
  if (system === 'yaml') {
    const config = await loadConfig(configDir);
    const flows = await createFlows({
      store,
      config: () => config,
      functions: [defineFlowFunction('inc', (input) => inc(input as { n: number }))],
    });
    def = flows.definitions[0]!;
    start = (id, n) => flows.start('five', { n }, { id });
    close = () => flows.close();
  } else {
    def = code;
    start = (id, n) => client.start(code, { n }, { id });
  }
  const worker = new Worker(store, { workflows: [def], queues: ['flows'], concurrency: 20, prefetch: 20 });
  await worker.start();
  const run = ++runNo;
  const idOf = (i: number) => `${system}${run}-${i}`;
  return {
    async start(i) {
      const id = idOf(i);
      const done = completions.done(id);
      const t = now();
      await start(id, i);
      return { started: t, done };
    },
    async result(i) {
      const out = await client.result<{ vars: { result: number } }>(idOf(i), { timeout: '60s' });
      return out.vars.result;
    },
    async close() {
      await worker.stop({ deadline: 5000 });
      await close();
      await store.close();
    },
  };
}

async function throughput(h: Harness, offset: number): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await (await h.start(offset + i)).done;
  let next = 0;
  const t0 = now();
  let last = t0;
  const lane = async () => {
    while (next < WORKFLOWS) {
      const i = offset + WARMUP + next++;
      last = Math.max(last, await (await h.start(i)).done);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  for (const i of [offset + WARMUP, offset + WARMUP + WORKFLOWS - 1]) {
    const r = await h.result(i);
    if (r !== i + 3) throw new Error(`workflow ${i} gave ${r}, expected ${i + 3}`);
  }
  return WORKFLOWS / ((last - t0) / 1000);
}

async function latency(h: Harness, offset: number): Promise<number> {
  const ms: number[] = [];
  for (let k = 0; k < WARMUP + RUNS; k++) {
    const { started, done } = await h.start(offset + k);
    const t = await done;
    if (k >= WARMUP) ms.push(t - started);
  }
  const r = await h.result(offset + WARMUP + RUNS - 1);
  if (r !== offset + WARMUP + RUNS - 1 + 3) throw new Error(`latency run gave ${r}`);
  return percentile(ms, 0.5);
}

/** The provider keys the example's llm_providers.yaml refers to (values do not matter). */
const KEYS = { ANTHROPIC_API_KEY: 'k', OPENAI_API_KEY: 'k', GEMINI_API_KEY: 'k', ANYTHINGLLM_API_KEY: 'k' };

function loadFile(): string {
  const seed = readFileSync(
    fileURLToPath(new URL('../examples/architect/baton/base/workflows.yaml', import.meta.url)),
    'utf8',
  );
  const body = seed.slice(seed.indexOf('  feature_development:'), seed.indexOf('  bug_fix:'));
  // Each copy has its own step ids, so no two templates are the same text.
  const ids = /\b(create_task|assign_to_session|create_environment|monitor_progress|create_pr|cleanup)\b/g;
  const copies = Array.from({ length: 200 }, (_, i) =>
    body.replace('  feature_development:', `  feature_${i}:`).replace(ids, `$1_${i}`),
  );
  return `version: "1.0"\nworkflows:\n${copies.join('')}`;
}

async function loadTime(): Promise<{ cold: number; warm: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-flows-load-'));
  try {
    // The example's configuration (routing and SLA rules, queries, datasources the seed's steps name),
    // with the 200-workflow file in place of its workflows.yaml: the whole directory is loaded.
    cpSync(fileURLToPath(new URL('../examples/architect/baton/base', import.meta.url)), join(dir, 'base'), {
      recursive: true,
    });
    writeFileSync(join(dir, 'base/workflows.yaml'), loadFile());
    // The first load pays module loading and JIT: reported apart, as what a one-shot command costs.
    let t = now();
    await loadConfig(dir, { env: KEYS });
    const cold = now() - t;
    const times: number[] = [];
    for (let k = 0; k < 7; k++) {
      t = now();
      const c = await loadConfig(dir, { env: KEYS });
      times.push(now() - t);
      if (Object.keys(c.value.workflows!.workflows!).length !== 200)
        throw new Error('expected 200 workflows');
    }
    return { cold, warm: median(times) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const dbs = new BenchDatabases(BASE_URL, log);
await runSuite(dbs, log, async () => {
  const configDir = mkdtempSync(join(tmpdir(), 'bench-flows-'));
  mkdirSync(join(configDir, 'base'));
  writeFileSync(join(configDir, 'base/workflows.yaml'), YAML);
  const load = watchLoad(log);
  // Measured first, in a process whose heap the workflow runs have not grown yet.
  const load200 = await loadTime();
  log(
    `200 workflows (the seed's feature_development, renamed) load and validate in ${round(load200.warm)} ms (median of 7; the first load in this process: ${round(load200.cold)} ms)`,
  );
  const tput: Record<System, number[]> = { yaml: [], code: [] };
  const p50: Record<System, number[]> = { yaml: [], code: [] };
  for (let r = 0; r < REPEAT; r++) {
    const order = r % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
    for (const system of order) {
      const db = await dbs.create(`flows_${system}`);
      await dbs.settle(db);
      const h = await open(system, dbs.urlFor(db), configDir);
      try {
        const t = await throughput(h, 0);
        const l = await latency(h, 1_000_000);
        tput[system].push(t);
        p50[system].push(l);
        log(
          `repeat ${r + 1} ${system}: ${round(t, 0)} workflows/s (${WORKFLOWS}, ${IN_FLIGHT} in flight); latency p50 ${round(l)} ms`,
        );
      } finally {
        await h.close();
        await dbs.drop(db);
      }
    }
  }
  const machine = load.end();
  const summary = {
    yaml_workflows_per_s: round(median(tput.yaml), 0),
    code_workflows_per_s: round(median(tput.code), 0),
    yaml_latency_p50_ms: round(median(p50.yaml)),
    code_latency_p50_ms: round(median(p50.code)),
    repeats: REPEAT,
    load: machine,
    load_200_cold_ms: round(load200.cold, 1),
  };
  log(JSON.stringify(summary));
  rmSync(configDir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      suite: 'flows',
      yaml_vs_code_throughput: tput.code.length ? round(median(tput.yaml) / median(tput.code)) : null,
      yaml_vs_code_latency_p50: p50.code.length ? round(median(p50.yaml) / median(p50.code)) : null,
      load_200_ms: round(load200.warm, 1),
    }),
  );
});
