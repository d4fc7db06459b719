// `npm run bench -- workflows [--runs N] [--warmup N] [--workflows N] [--in-flight N] [--repeat R]
//   [--systems baton,dbos] [--cap S] [--profile] [--baton-pool N]`
//
// --profile counts and times every statement (wraps pg.Client.prototype.query, which both systems
// use), prints statements per workflow for the throughput case and a statement timeline of the
// last three latency runs.
//
// Baton beside DBOS Transact (@dbos-inc/dbos-sdk) on the local PostgreSQL, with the same 3-step
// workflow: step i+1, step +1, step +1 (the result of input i is i + 3). Every system run gets its
// own fresh database, dropped at the end. Both systems run inside this process, one at a time, at
// their default settings (pool of 10 connections each). See docs/performance.md, "workflows".
//
// (a) Latency: workflows run one at a time (start one, wait until it is done, start the next), 20
//     warm-up runs then --runs measured. Per run, from the start call:
//       step3   the third step's function was entered (signalled in-process from inside it);
//       done    the workflow's completion is durable: for Baton, the worker's completion statement
//               returned (seen by wrapping store.driver.query), for DBOS, handle.getResult()
//               returned (for a workflow started in this process it awaits the workflow's own
//               promise, which settles after DBOS recorded the output: no polling);
//       result  Baton only, in a second series of --runs runs: start, then wait with
//               client.result(id), which polls with backoff (5, 10, 20 … ms); it measures the polling.
//     The JSON's *_wf_latency_ms is the p50 of `done`.
// (b) Throughput: N workflows, keeping IN_FLIGHT started-but-not-done at a time (a new one is
//     started when one is done, by the same `done` signal as above); Baton's worker runs with
//     concurrency 20 and prefetch 20. The clock runs from the first start call until the last
//     workflow is done; steps/s = 3 N / seconds. 20 warm-up workflows run first, untimed.
//
// Correctness: every step function counts its calls per workflow (each must run exactly once), and
// every result is checked (in-process and in the system's own tables). The bench also measures one
// durable single-row commit on this server, the floor under any checkpoint.
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';
import { BenchDatabases, runSuite } from './_databases.js';
import { argValue, intArg } from './_args.js';
import { watchLoad } from './_load.js';
import { watchCompletions } from './_completions.js';
import { Client, Store, Worker, createLogger, defineWorkflow } from '@baton/core';

// ---------------------------------------------------------------------------------------------
// Options

type SystemName = 'baton' | 'dbos';
const ALL_SYSTEMS: SystemName[] = ['baton', 'dbos'];

const RUNS = intArg('runs', 200);
const WARMUP = intArg('warmup', 20, 0);
const WORKFLOWS = intArg('workflows', 1000);
const IN_FLIGHT = intArg('in-flight', 20);
const REPEAT = intArg('repeat', 1);
/** Upper bound on one case, in seconds. */
const CAP_S = intArg('cap', 120);
const PROFILE = process.argv.includes('--profile');
/** Baton's pool size (its default is 10, like DBOS's); for exploring, not for the headline figures. */
const BATON_POOL = intArg('baton-pool', 10);
const SYSTEMS = (argValue('systems')?.split(',') ?? ALL_SYSTEMS).map((s) => {
  if (!ALL_SYSTEMS.includes(s as SystemName)) throw new Error(`unknown system '${s}' in --systems`);
  return s as SystemName;
});
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const STEPS = 3;

// ---------------------------------------------------------------------------------------------
// Small helpers

const now = () => performance.now();
const log = (msg: string) => process.stderr.write(`[workflows] ${msg}\n`);

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const round = (x: number, digits = 0) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/** A promise with its resolver, for in-process completion signals. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function withCap<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, cap]).finally(() => clearTimeout(timer));
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat; undefined elsewhere. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Step calls, counted per workflow: the workflow functions of both systems report here

/** Counts step calls per workflow index and signals when a workflow's third step was entered. */
class Recorder {
  readonly calls: Uint32Array;
  readonly step3At: Float64Array;
  private readonly step3Waiters = new Map<number, (t: number) => void>();
  stray = 0;
  constructor(readonly size: number) {
    this.calls = new Uint32Array(size * STEPS);
    this.step3At = new Float64Array(size);
  }
  hit(step: number, i: unknown): void {
    const t = now();
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= this.size) {
      this.stray++;
      return;
    }
    this.calls[i * STEPS + step]++;
    if (step === STEPS - 1) {
      this.step3At[i] = t;
      const w = this.step3Waiters.get(i);
      if (w) {
        this.step3Waiters.delete(i);
        w(t);
      }
    }
  }
  /** Resolves with the time the third step of workflow i is entered. */
  step3(i: number): Promise<number> {
    const d = deferred<number>();
    this.step3Waiters.set(i, d.resolve);
    return d.promise;
  }
  /** Step calls beyond one, and steps never called, over workflows [0, size). */
  check(): { duplicates: number; missing: number } {
    let duplicates = 0;
    let missing = 0;
    for (const c of this.calls) {
      if (c === 0) missing++;
      else duplicates += c - 1;
    }
    return { duplicates: duplicates + this.stray, missing };
  }
}

let current: Recorder | undefined;
const hit = (step: number, i: number) => current?.hit(step, i);

// ---------------------------------------------------------------------------------------------
// Databases: one fresh database per system run, dropped at the end

const dbs = new BenchDatabases(BASE_URL, log);
const { admin } = dbs;
const urlFor = (db: string) => dbs.urlFor(db);
const createDatabase = (system: SystemName | 'floor') => dbs.create(system);
const dropDatabase = (name: string) => dbs.drop(name);
const settle = (db: string) => dbs.settle(db);

// ---------------------------------------------------------------------------------------------
// Statement profile (--profile): every round trip of every pg.Client, whoever sends it

type Stats = Map<string, { n: number; ms: number }>;
const profileStats: Stats = new Map();
/** When set (--profile, latency case), every statement's start and end, for a timeline of one run. */
let timeline: { key: string; t0: number; t1: number }[] | undefined;

/** Wraps pg.Client.prototype.query (both systems use this pg) to count and time statements by text. */
function instrumentPg(): void {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0] as string | { text?: string; name?: string } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? first?.name ?? '?');
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 90);
    const t = now();
    const record = () => {
      timeline?.push({ key, t0: t, t1: now() });
      const s = profileStats.get(key) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += now() - t;
      profileStats.set(key, s);
    };
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const cb = args[last] as (...a: unknown[]) => unknown;
      args[last] = (...a: unknown[]) => {
        record();
        return cb(...a);
      };
      return original.apply(this, args);
    }
    const out = original.apply(this, args);
    if (out && typeof (out as Promise<unknown>).then === 'function')
      (out as Promise<unknown>).then(record, record);
    return out;
  };
}

function formatProfile(stats: Stats, workflows: number): string {
  const entries = [...stats.entries()].sort((a, b) => b[1].n - a[1].n || b[1].ms - a[1].ms);
  const total = entries.reduce((s, [, v]) => s + v.n, 0);
  const totalMs = entries.reduce((s, [, v]) => s + v.ms, 0);
  const lines = entries.map(
    ([k, s]) =>
      `  ${(s.n / workflows).toFixed(2).padStart(6)}/wf ${String(s.n).padStart(6)} calls ${(s.ms / s.n).toFixed(2).padStart(6)} ms/call  ${k}`,
  );
  return (
    `  ${(total / workflows).toFixed(2)} statements per workflow (${total} in all, ${(totalMs / total).toFixed(2)} ms each on average, ` +
    `client-side round trip incl. queueing on the connection)\n${lines.join('\n')}`
  );
}

// ---------------------------------------------------------------------------------------------
// One adapter per system

/** What one start gives: when the start call returned, when the workflow is durably done (with its output when known). */
interface Started {
  started: Promise<number>;
  done: Promise<{ at: number; output?: unknown }>;
  /** Baton: client.result(id), the polling view. */
  polled?: Promise<{ at: number; output: unknown }>;
}

interface Harness {
  start(i: number, poll: boolean): Started;
  /** Problems found in the system's own tables for workflows [0, n). */
  verify(n: number): Promise<string[]>;
  close(): Promise<void>;
}

const batonWorkflow = defineWorkflow('three-steps', {}, async (ctx, input: { i: number }) => {
  const a = await ctx.step('one', () => {
    hit(0, input.i);
    return input.i + 1;
  });
  const b = await ctx.step('two', () => {
    hit(1, input.i);
    return a + 1;
  });
  return ctx.step('three', () => {
    hit(2, input.i);
    return b + 1;
  });
});

let batonRun = 0;

async function openBaton(url: string): Promise<Harness> {
  const store = await Store.open({ databaseUrl: url, logger: createLogger('warn'), poolSize: BATON_POOL });
  await store.migrate();
  const completions = watchCompletions(store);
  const worker = new Worker(store, { workflows: [batonWorkflow], concurrency: 20, prefetch: 20 });
  await worker.start();
  const client = new Client(store);
  const run = ++batonRun;
  const idOf = (i: number) => `r${run}-${String(i).padStart(7, '0')}`;
  return {
    start(i, poll) {
      const id = idOf(i);
      const done = completions.done(id);
      const started = client.start(batonWorkflow, { i }, { id }).then(() => now());
      return {
        started,
        done: done.then((at) => ({ at })),
        polled: poll
          ? started.then(() =>
              client.result(id, { timeout: `${CAP_S}s` }).then((output) => ({ at: now(), output })),
            )
          : undefined,
      };
    },
    async verify(n) {
      const [r] = await store.driver.query<{
        completed: number;
        right: number;
        other: number;
        history: number;
      }>(
        `SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed,
                count(*) FILTER (WHERE status = 'completed' AND output = to_jsonb((input->>'i')::int + 3))::int AS right,
                count(*) FILTER (WHERE status <> 'completed')::int AS other,
                (SELECT count(*)::int FROM baton.history WHERE kind = 'step' AND status = 'completed') AS history
         FROM baton.executions WHERE kind = 'workflow' AND id LIKE $1 AND (input->>'i')::int < $2`,
        [`r${run}-%`, n],
      );
      const problems: string[] = [];
      if (r.completed !== n) problems.push(`${r.completed} of ${n} workflows completed (${r.other} not)`);
      if (r.right !== r.completed) problems.push(`${r.completed - r.right} completed with a wrong result`);
      if (r.history < n * STEPS) problems.push(`${r.history} step records for ${n} workflows`);
      return problems;
    },
    async close() {
      await worker.stop({ deadline: 5000 });
      await store.close();
    },
  };
}

// DBOS is a process-wide singleton: the workflow is registered once, before the first launch.
type DbosModule = typeof import('@dbos-inc/dbos-sdk');
let dbosLoaded: { mod: DbosModule; workflow: (i: number) => Promise<number> } | undefined;

async function loadDbos(): Promise<NonNullable<typeof dbosLoaded>> {
  if (dbosLoaded) return dbosLoaded;
  const mod = await import('@dbos-inc/dbos-sdk');
  const { DBOS } = mod;
  const workflow = DBOS.registerWorkflow(
    async (i: number) => {
      const a = await DBOS.runStep(
        async () => {
          hit(0, i);
          return i + 1;
        },
        { name: 'one' },
      );
      const b = await DBOS.runStep(
        async () => {
          hit(1, i);
          return a + 1;
        },
        { name: 'two' },
      );
      return DBOS.runStep(
        async () => {
          hit(2, i);
          return b + 1;
        },
        { name: 'three' },
      );
    },
    { name: 'threeSteps' },
  );
  dbosLoaded = { mod, workflow };
  return dbosLoaded;
}

let dbosRun = 0;

async function openDbos(url: string): Promise<Harness> {
  const { mod, workflow } = await loadDbos();
  const { DBOS } = mod;
  DBOS.setConfig({ name: 'baton-bench', systemDatabaseUrl: url, logLevel: 'warn' });
  await DBOS.launch();
  const run = ++dbosRun;
  const idOf = (i: number) => `r${run}-${String(i).padStart(7, '0')}`;
  const wrong: number[] = [];
  return {
    start(i) {
      const handle = DBOS.startWorkflow(workflow, { workflowID: idOf(i) })(i);
      return {
        started: handle.then(() => now()),
        done: handle
          .then((h) => h.getResult())
          .then((output) => {
            if (output !== i + 3) wrong.push(i);
            return { at: now(), output };
          }),
      };
    },
    async verify(n) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const [r] = (
          await c.query<{ success: number; other: number; steps: number }>(
            `SELECT count(*) FILTER (WHERE status = 'SUCCESS')::int AS success,
                    count(*) FILTER (WHERE status <> 'SUCCESS')::int AS other,
                    (SELECT count(*)::int FROM dbos.operation_outputs o
                     WHERE o.workflow_uuid LIKE $1 AND o.function_name IN ('one', 'two', 'three')) AS steps
             FROM dbos.workflow_status WHERE workflow_uuid LIKE $1`,
            [`r${run}-%`],
          )
        ).rows;
        const problems: string[] = [];
        if (r.success < n) problems.push(`${r.success} of ${n} workflows SUCCESS (${r.other} not)`);
        if (r.steps < n * STEPS) problems.push(`${r.steps} step outputs for ${n} workflows`);
        if (wrong.length) problems.push(`${wrong.length} wrong results (first: workflow ${wrong[0]})`);
        return problems;
      } finally {
        await c.end();
      }
    },
    async close() {
      await DBOS.shutdown();
    },
  };
}

const OPEN: Record<SystemName, (url: string) => Promise<Harness>> = { baton: openBaton, dbos: openDbos };

const SETTINGS: Record<SystemName, string> = {
  baton: `Worker concurrency 20, prefetch 20; pool ${BATON_POOL}`,
  dbos: 'defaults (systemDatabasePoolSize 10); in-process startWorkflow',
};

// ---------------------------------------------------------------------------------------------
// Runs

interface Check {
  duplicates: number;
  missing: number;
  problems: string[];
}

interface LatencyResult extends Check {
  system: SystemName;
  startCall: number[];
  step3: number[];
  done: number[];
  polled: number[];
}

interface ThroughputResult extends Check {
  system: SystemName;
  stepsPerS: number;
  seconds: number;
  workflows: number;
  /** Share of this process's CPU time in the timed window, in cores (1 = one core busy). */
  nodeCores: number;
  /** Share of the whole machine busy in the timed window (1 = all cores). */
  machineBusy: number;
}

async function withDatabase<T>(
  system: SystemName,
  size: number,
  fn: (h: Harness, rec: Recorder) => Promise<T>,
): Promise<T> {
  const db = await createDatabase(system);
  const rec = new Recorder(size);
  current = rec;
  let h: Harness | undefined;
  try {
    h = await OPEN[system](urlFor(db));
    await settle(db);
    return await fn(h, rec);
  } finally {
    if (h) await h.close().catch((err) => log(`${system}: closing failed: ${(err as Error).message}`));
    current = undefined;
    await dropDatabase(db);
  }
}

async function check(h: Harness, rec: Recorder, n: number): Promise<Check> {
  const { duplicates, missing } = rec.check();
  return { duplicates, missing, problems: await h.verify(n) };
}

async function latency(system: SystemName): Promise<LatencyResult> {
  // Baton runs a second series that waits with client.result() (indices after the first series').
  const polls = system === 'baton';
  return withDatabase(system, RUNS + WARMUP + (polls ? RUNS : 0), async (h, rec) => {
    const res: LatencyResult = {
      system,
      startCall: [],
      step3: [],
      done: [],
      polled: [],
      duplicates: 0,
      missing: 0,
      problems: [],
    };
    // Warm-up runs take the indices after the measured ones.
    for (let k = 0; k < RUNS + WARMUP; k++) {
      const i = k < WARMUP ? RUNS + k : k - WARMUP;
      const step3 = rec.step3(i);
      if (PROFILE && k >= RUNS + WARMUP - 3) timeline = [];
      const t0 = now();
      const s = h.start(i, false);
      const [started, t3, done] = await withCap(
        Promise.all([s.started, step3, s.done]),
        CAP_S * 1000,
        `${system} latency run ${i}`,
      );
      if (PROFILE && timeline) {
        log(
          `${system} latency: timeline of run ${i} (ms from the start call; step 3 entered at ${(t3 - t0).toFixed(2)}, ` +
            `done at ${(done.at - t0).toFixed(2)})\n` +
            timeline
              .filter((e) => e.t0 <= done.at)
              .map(
                (e) =>
                  `  ${(e.t0 - t0).toFixed(2).padStart(6)} → ${(e.t1 - t0).toFixed(2).padStart(6)}  ${e.key}`,
              )
              .join('\n'),
        );
        timeline = undefined;
      }
      if (k < WARMUP) continue;
      res.startCall.push(started - t0);
      res.step3.push(t3 - t0);
      res.done.push(done.at - t0);
    }
    // Second series: start, then wait the way an application would, with client.result() (it polls).
    for (let k = 0; polls && k < RUNS; k++) {
      const i = RUNS + WARMUP + k;
      const t0 = now();
      const s = h.start(i, true);
      const [polled] = await withCap(
        Promise.all([s.polled, s.done]),
        CAP_S * 1000,
        `${system} result() run ${i}`,
      );
      if (!polled) break;
      res.polled.push(polled.at - t0);
      if (polled.output !== i + 3)
        res.problems.push(`result() of workflow ${i} gave ${String(polled.output)}`);
    }
    const c = await check(h, rec, rec.size);
    return { ...res, ...c, problems: [...res.problems, ...c.problems] };
  });
}

/** Runs workflows [from, to) keeping `inFlight` started but not done. */
async function window(h: Harness, from: number, to: number, inFlight: number): Promise<void> {
  let next = from;
  const lane = async () => {
    while (next < to) {
      const i = next++;
      await h.start(i, false).done;
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, to - from) }, lane));
}

async function throughput(system: SystemName): Promise<ThroughputResult> {
  return withDatabase(system, WORKFLOWS + WARMUP, async (h, rec) => {
    await withCap(window(h, WORKFLOWS, WORKFLOWS + WARMUP, IN_FLIGHT), CAP_S * 1000, `${system} warm-up`);
    profileStats.clear();
    const cpu0 = process.cpuUsage();
    const m0 = machineCpu();
    const t0 = now();
    await withCap(window(h, 0, WORKFLOWS, IN_FLIGHT), CAP_S * 1000, `${system} throughput`);
    const seconds = (now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const m1 = machineCpu();
    const nodeCores = (cpu.user + cpu.system) / 1e6 / seconds;
    const machineBusy = m0 && m1 ? (m1.busy - m0.busy) / (m1.total - m0.total) : NaN;
    if (PROFILE) log(`${system} throughput: statement profile\n${formatProfile(profileStats, WORKFLOWS)}`);
    const c = await check(h, rec, WORKFLOWS + WARMUP);
    return {
      system,
      stepsPerS: (WORKFLOWS * STEPS) / seconds,
      seconds,
      workflows: WORKFLOWS,
      nodeCores,
      machineBusy,
      ...c,
    };
  });
}

/**
 * The floor under any durable step on this machine: one single-row INSERT committed on its own
 * (synchronous_commit as the server has it), run sequentially on one connection. p50 in ms.
 */
async function commitFloor(n = 200): Promise<number> {
  const db = await createDatabase('floor');
  const c = new pg.Client({ connectionString: urlFor(db) });
  try {
    await c.connect();
    await c.query('CREATE TABLE t (id int PRIMARY KEY, v jsonb)');
    const times: number[] = [];
    for (let i = 0; i < n + 20; i++) {
      const t = now();
      await c.query({ name: 'ins', text: 'INSERT INTO t VALUES ($1, $2)', values: [i, '{"x":1}'] });
      if (i >= 20) times.push(now() - t);
    }
    return percentile(
      times.sort((a, b) => a - b),
      0.5,
    );
  } finally {
    await c.end().catch(() => undefined);
    await dropDatabase(db);
  }
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

const LABEL: Record<SystemName, string> = { baton: 'Baton', dbos: 'DBOS Transact' };

async function main(): Promise<void> {
  const load = watchLoad(log);
  if (PROFILE) instrumentPg();
  const serverVersion = (
    await admin.query<{ v: string }>('SELECT current_setting($1) AS v', ['server_version'])
  ).rows[0].v;
  log(
    `latency runs ${RUNS} (+${WARMUP} warm-up), throughput ${WORKFLOWS} workflows × ${STEPS} steps with ${IN_FLIGHT} in flight, ` +
      `repeat ${REPEAT}, systems ${SYSTEMS.join(', ')}; PostgreSQL ${serverVersion}, Node ${process.version}, ` +
      `${cpus().length} cores; ` +
      `@dbos-inc/dbos-sdk ${version('@dbos-inc/dbos-sdk')}`,
  );
  const floor = await commitFloor();
  log(`one durable single-row commit (INSERT, sequential, one connection): p50 ${floor.toFixed(2)} ms`);
  const lat: LatencyResult[] = [];
  const tput: ThroughputResult[] = [];
  for (let r = 0; r < REPEAT; r++) {
    for (const system of SYSTEMS) {
      const tag = REPEAT > 1 ? ` (round ${r + 1})` : '';
      log(`${LABEL[system]}: latency, ${RUNS} sequential runs${tag} …`);
      const l = await latency(system);
      lat.push(l);
      const s = (xs: number[]) =>
        `p50 ${percentile(
          [...xs].sort((a, b) => a - b),
          0.5,
        ).toFixed(2)} mean ${mean(xs).toFixed(2)}`;
      log(
        `  done ${s(l.done)} ms; step 3 entered ${s(l.step3)} ms; start call ${s(l.startCall)} ms` +
          (l.polled.length ? `; result() ${s(l.polled)} ms` : ''),
      );
      log(`${LABEL[system]}: throughput, ${WORKFLOWS} workflows${tag} …`);
      const t = await throughput(system);
      tput.push(t);
      log(
        `  ${t.stepsPerS.toFixed(0)} steps/s (${t.workflows} workflows in ${t.seconds.toFixed(2)} s; ` +
          `this process used ${t.nodeCores.toFixed(2)} cores, the machine was ${(t.machineBusy * 100).toFixed(0)}% busy)`,
      );
    }
  }

  // One row per system: medians over the rounds (latency: median of the rounds' p50 and means).
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
  };
  const p50 = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      0.5,
    );
  const p99 = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      0.99,
    );
  const summary = SYSTEMS.map((system) => {
    const ls = lat.filter((x) => x.system === system);
    const ts = tput.filter((x) => x.system === system);
    const m = (f: (l: LatencyResult) => number[], g: (xs: number[]) => number) => med(ls.map((l) => g(f(l))));
    return {
      system,
      stepsPerS: med(ts.map((t) => t.stepsPerS)),
      allSteps: ts.map((t) => t.stepsPerS),
      doneP50: m((l) => l.done, p50),
      doneMean: m((l) => l.done, mean),
      doneP99: m((l) => l.done, p99),
      step3P50: m((l) => l.step3, p50),
      step3Mean: m((l) => l.step3, mean),
      polledP50: system === 'baton' ? m((l) => l.polled, p50) : NaN,
      polledMean: system === 'baton' ? m((l) => l.polled, mean) : NaN,
      startP50: m((l) => l.startCall, p50),
      duplicates: [...ls, ...ts].reduce((n, x) => n + x.duplicates, 0),
      missing: [...ls, ...ts].reduce((n, x) => n + x.missing, 0),
      problems: [...ls, ...ts].flatMap((x) => x.problems),
    };
  });

  const header = [
    'system',
    'settings',
    'steps/s',
    'all runs',
    'done p50',
    'done mean',
    'done p99',
    'step3 p50',
    'step3 mean',
    'result() p50',
    'start() p50',
    'dup',
    'missing',
  ];
  const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows = summary.map((s) => [
    LABEL[s.system],
    SETTINGS[s.system],
    f(s.stepsPerS, 0),
    s.allSteps.map((x) => x.toFixed(0)).join(' '),
    f(s.doneP50),
    f(s.doneMean),
    f(s.doneP99),
    f(s.step3P50),
    f(s.step3Mean),
    f(s.polledP50),
    f(s.startP50),
    String(s.duplicates),
    String(s.missing),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ') + ' |';
  console.log(line(header));
  console.log(
    '|' + widths.map((w, i) => (i >= 2 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|',
  );
  for (const r of rows) console.log(line(r));
  console.log(
    'latencies in ms from the start call: done = durably completed (Baton: completion statement returned; ' +
      'DBOS: getResult()), step3 = third step entered, result() = Baton client.result() (polls)',
  );
  for (const s of summary) {
    if (s.duplicates > 0 || s.missing > 0)
      console.log(
        `WARNING: ${LABEL[s.system]}: ${s.duplicates} duplicate step calls, ${s.missing} steps missing`,
      );
    for (const p of s.problems) console.log(`WARNING: ${LABEL[s.system]}: ${p}`);
  }
  const loadRecord = load.end();

  const get = (system: SystemName) => summary.find((s) => s.system === system);
  const b = get('baton');
  const d = get('dbos');
  const result = {
    suite: 'workflows',
    baton_steps_per_s: round(b?.stepsPerS ?? NaN),
    dbos_steps_per_s: round(d?.stepsPerS ?? NaN),
    ratio: b && d ? round(b.stepsPerS / d.stepsPerS, 2) : null,
    baton_wf_latency_ms: round(b?.doneP50 ?? NaN, 2),
    dbos_wf_latency_ms: round(d?.doneP50 ?? NaN, 2),
    latency_ratio: b && d ? round(b.doneP50 / d.doneP50, 2) : null,
    baton_wf_latency_mean_ms: round(b?.doneMean ?? NaN, 2),
    dbos_wf_latency_mean_ms: round(d?.doneMean ?? NaN, 2),
    baton_step3_latency_ms: round(b?.step3P50 ?? NaN, 2),
    dbos_step3_latency_ms: round(d?.step3P50 ?? NaN, 2),
    baton_result_latency_ms: round(b?.polledP50 ?? NaN, 2),
    commit_p50_ms: round(floor, 2),
    runs: RUNS,
    workflows: WORKFLOWS,
    in_flight: IN_FLIGHT,
    repeat: REPEAT,
    ...loadRecord,
    duplicates: summary.reduce((n, s) => n + s.duplicates, 0),
    missing: summary.reduce((n, s) => n + s.missing, 0),
    problems: summary.reduce((n, s) => n + s.problems.length, 0),
  };
  console.log(JSON.stringify(result));
  if (result.duplicates > 0 || result.missing > 0 || result.problems > 0) process.exitCode = 1;
}

await runSuite(dbs, log, main);
