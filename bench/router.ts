// `npm run bench -- router [--repeat N] [--tasks N] [--sessions N] [--sends N]`
//
// The Architect on the local PostgreSQL, with the fixture's routing_rules.yaml (its queue limit
// raised to fit the run) and 1,000 `client` sessions of the fixture's providers, capacity 5.
// - Decisions: routeTask, the pure function, on 20,000 tasks of the fixture's types against the
//   1,000 sessions (80% idle or busy with room, the rest full, waiting for input, offline or draining);
//   each decision timed alone; p50 and p99.
// - Send to assigned: `tasks.send` of one task at a time with every session idle, timed from the
//   call to its return with the task assigned (one transaction: insert, route, assign; then its
//   workflow's start). Each task is completed before the next send (untimed), so sessions stay idle.
// - End to end: 50,000 tasks of the fixture's types sent in batches of 1,000 (`sendMany`) to the
//   1,000 sessions, with the control plane (task workflows, dispatcher) in a process of its own, as
//   `baton architect` runs (bench/_router-plane.ts), and the sessions, in this process, taking
//   (`sessions.next`) and completing each task at once (`sessions.completeAndTakeNext`, which takes
//   the session's next task in the same statement);
//   tasks/s from the first send to the last completion. Every task must complete exactly once.
// Each measurement runs --repeat times (default 3) on a fresh database; the JSON reports medians.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Store, createLogger } from '@baton/core';
import type { RoutingRules } from '../packages/flows/src/config/kinds/routing-rules.js';
import { createArchitect, type Architect } from '../packages/flows/src/architect/architect.js';
import type { SessionLease } from '../packages/flows/src/architect/sessions.js';
import { routeTask } from '../packages/flows/src/architect/route.js';
import type { SessionForRouting, SessionStatus, TaskSpec } from '../packages/flows/src/architect/model.js';
import { BenchDatabases, runSuite } from './_databases.js';
import { benchRules } from './_router-rules.js';
import { intArg } from './_args.js';
import { machineCpu, processCpuMs, watchLoad } from './_load.js';

const REPEAT = intArg('repeat', 3);
const TASKS = intArg('tasks', 50_000);
const SESSIONS = intArg('sessions', 1000);
const SENDS = intArg('sends', 1000);
const DECISIONS = 20_000;
const BATCH = 1000;
const PLANE_SCRIPT = fileURLToPath(new URL('./_router-plane.ts', import.meta.url));
const BASE_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.BATON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const log = (msg: string) => process.stderr.write(`[router] ${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

/** A deterministic generator, so every run sees the same sessions and tasks. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

const rules = () => benchRules(TASKS, SESSIONS);

function sessionNames(routing: RoutingRules): { name: string; provider: string }[] {
  const providers = routing.supported_providers!.map((p) => p.name);
  const preferred = [
    ...new Set(Object.values(routing.environment_routing!).flatMap((r) => r.preferred_sessions ?? [])),
  ];
  const excluded = new Set(routing.excluded_sessions ?? []);
  const names = [...preferred.filter((n) => !excluded.has(n))];
  for (let i = 0; names.length < SESSIONS; i++) names.push(`worker_${String(i).padStart(4, '0')}`);
  return names.map((name, i) => ({ name, provider: providers[i % providers.length]! }));
}

function taskSpecs(routing: RoutingRules, n: number, seed: number): TaskSpec[] {
  const types = Object.keys(routing.environment_routing!).filter(
    (t) => !routing.environment_routing![t]!.requires_env,
  );
  const next = lcg(seed);
  return Array.from({ length: n }, (_, i) => ({
    type: types[Math.floor(next() * types.length)]!,
    prompt: `task ${i}`,
  }));
}

function decisions(routing: RoutingRules): { p50: number; p99: number; perSecond: number } {
  const next = lcg(7);
  const statuses: SessionStatus[] = ['waiting_input', 'offline', 'draining'];
  const sessions: SessionForRouting[] = sessionNames(routing).map(({ name, provider }, i) => {
    const r = next();
    const held = r < 0.8 ? Math.floor(next() * 5) : 5;
    const status: SessionStatus = r < 0.9 ? (held ? 'busy' : 'idle') : statuses[i % 3]!;
    return {
      name,
      provider,
      status,
      capacity: 5,
      held_tasks: held,
      last_heartbeat: 1_000_000,
      last_assigned_at: Math.floor(next() * 1_000_000),
      assigned_total: Math.floor(next() * 100),
      working_dir: i % 7 === 0 ? '/srv/app' : undefined,
    };
  });
  const specs = taskSpecs(routing, DECISIONS, 11);
  const times: number[] = [];
  let kept = 0;
  const start = performance.now();
  for (let i = 0; i < specs.length; i++) {
    const task = {
      ...specs[i]!,
      id: `t${i}`,
      created_at: 1_000_000 + i,
      working_dir: i % 3 === 0 ? '/srv/app' : undefined,
    };
    const t0 = performance.now();
    const d = routeTask(routing, sessions, task, { now: 1_000_100, seed: 'bench' });
    times.push(performance.now() - t0);
    if (d.kind === 'assign') kept++;
  }
  const total = performance.now() - start;
  if (kept === 0) throw new Error('no decision assigned a task: the bench sessions are wrong');
  return { p50: pct(times, 50), p99: pct(times, 99), perSecond: DECISIONS / (total / 1000) };
}

async function withArchitect<T>(
  dbs: BenchDatabases,
  fn: (a: Architect, store: Store, leases: Map<string, SessionLease>, url: string) => Promise<T>,
): Promise<T> {
  const db = await dbs.create('router');
  const store = await Store.open({ databaseUrl: dbs.urlFor(db), logger: createLogger('warn') });
  try {
    await store.migrate();
    const r = await rules();
    const architect = await createArchitect({ store, rules: () => r, logger: createLogger('warn') });
    const leases = new Map<string, SessionLease>();
    for (const s of sessionNames(r.routing))
      leases.set(s.name, await architect.sessions.register({ ...s, capacity: 5 }));
    return await fn(architect, store, leases, dbs.urlFor(db));
  } finally {
    await store.close();
    await dbs.drop(db);
  }
}

async function sendToAssigned(dbs: BenchDatabases): Promise<{ p50: number; p99: number }> {
  return withArchitect(dbs, async (architect, _store, leases) => {
    const r = await rules();
    const specs = taskSpecs(r.routing, SENDS + 50, 23);
    const times: number[] = [];
    for (let i = 0; i < specs.length; i++) {
      const t0 = performance.now();
      const task = await architect.tasks.send(specs[i]!);
      const ms = performance.now() - t0;
      if (task.status !== 'assigned')
        throw new Error(`task ${i} was not assigned at once: ${task.status} (${task.waiting_because})`);
      if (i >= 50) times.push(ms); // the first 50 warm up
      const lease = leases.get(task.assigned_session!)!;
      await architect.sessions.next(lease);
      await architect.sessions.complete(lease, task.id, 'ok');
    }
    return { p50: pct(times, 50), p99: pct(times, 99) };
  });
}

async function endToEnd(
  dbs: BenchDatabases,
): Promise<{ tasksPerSecond: number; workflowsDoneS: number; cpuMsPerTask: number }> {
  return withArchitect(dbs, async (architect, store, leases, url) => {
    const r = await rules();
    const plane = await planeProcess(url);
    let stop = false;
    let completed = 0;
    // The sessions: each takes the task assigned to it and completes it at once.
    const sessionsLoop = (async () => {
      while (!stop) {
        const rows = await store.driver.query<{ assigned_session: string; n: number }>(
          `SELECT assigned_session, count(*)::int AS n FROM baton.architect_tasks WHERE status = 'assigned'
           GROUP BY assigned_session LIMIT 1000`,
        );
        if (rows.length === 0) {
          await new Promise((res) => setTimeout(res, 5));
          continue;
        }
        let i = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (i < rows.length) {
              const row = rows[i++]!;
              const lease = leases.get(row.assigned_session)!;
              // a session working through its tasks: each completion takes the next in the same call
              let task = await architect.sessions.next(lease);
              for (let k = 0; task && k < row.n; k++) {
                task = (await architect.sessions.completeAndTakeNext(lease, task.id, 'ok')).next;
                completed++;
              }
              // one taken beyond the count read is completed too, so none is left running
              if (task) {
                await architect.sessions.complete(lease, task.id, 'ok');
                completed++;
              }
            }
          }),
        );
      }
    })();
    const specs = taskSpecs(r.routing, TASKS, 31);
    const cpu = machineCpu();
    const own0 = process.cpuUsage();
    const plane0 = processCpuMs(plane.pid);
    const t0 = performance.now();
    for (let i = 0; i < specs.length; i += BATCH) await architect.tasks.sendMany(specs.slice(i, i + BATCH));
    log(`  sent ${TASKS} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    while (completed < TASKS) {
      await new Promise((res) => setTimeout(res, 20));
      if (performance.now() - t0 > 600_000)
        throw new Error(`only ${completed} of ${TASKS} tasks completed in 10 min`);
    }
    const seconds = (performance.now() - t0) / 1000;
    // CPU per task, whole machine and by process: steadier than the rate on a machine whose speed varies.
    const busy = cpu.busyMs();
    const own = process.cpuUsage(own0);
    const ownMs = (own.user + own.system) / 1000;
    const planeMs = processCpuMs(plane.pid) - plane0;
    const per = (ms: number) => (ms / TASKS).toFixed(2);
    log(
      `  ${TASKS} tasks completed in ${seconds.toFixed(1)} s; CPU per task: machine ${per(busy)} ms = ` +
        `control plane ${per(planeMs)} + sender and sessions ${per(ownMs)} + PostgreSQL and the rest ${per(busy - planeMs - ownMs)}`,
    );
    stop = true;
    await sessionsLoop;
    const [c] = await store.driver.query<{ n: number; events: number }>(
      `SELECT (SELECT count(*)::int FROM baton.architect_tasks WHERE status = 'completed') AS n,
              (SELECT count(*)::int FROM baton.architect_task_events WHERE event = 'completed') AS events`,
    );
    if (c!.n !== TASKS || c!.events !== TASKS)
      throw new Error(
        `expected ${TASKS} completed tasks once each, got ${c!.n} tasks and ${c!.events} events`,
      );
    // the workflows finish after their tasks (each is woken by its completion)
    for (;;) {
      const [w] = await store.driver.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM baton.executions WHERE name = 'architect.task' AND status <> 'completed'`,
      );
      if (w!.n === 0) break;
      if (performance.now() - t0 > 900_000) throw new Error(`${w!.n} task workflows still open`);
      await new Promise((res) => setTimeout(res, 100));
    }
    const workflowsDoneS = (performance.now() - t0) / 1000;
    await plane.stop();
    return { tasksPerSecond: TASKS / seconds, workflowsDoneS, cpuMsPerTask: busy / TASKS };
  });
}

/** The control plane in a child process (as `baton architect` runs), until stopped. */
async function planeProcess(url: string): Promise<{ pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', PLANE_SCRIPT, url, String(TASKS), String(SESSIONS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`the control plane exited ${code}`)));
  });
  return {
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const load = watchLoad(log);
  log(`${SESSIONS} sessions, ${TASKS} tasks, repeat ${REPEAT}`);
  const dbs = new BenchDatabases(BASE_URL, log);
  await runSuite(dbs, log, async () => {
    const { routing } = await rules();
    const d: ReturnType<typeof decisions>[] = [];
    const s: Awaited<ReturnType<typeof sendToAssigned>>[] = [];
    const e: Awaited<ReturnType<typeof endToEnd>>[] = [];
    for (let i = 0; i < REPEAT; i++) {
      d.push(decisions(routing));
      log(
        `decisions: p50 ${d.at(-1)!.p50.toFixed(3)} ms, p99 ${d.at(-1)!.p99.toFixed(3)} ms, ${Math.round(d.at(-1)!.perSecond)}/s`,
      );
      s.push(await sendToAssigned(dbs));
      log(`send to assigned: p50 ${s.at(-1)!.p50.toFixed(2)} ms, p99 ${s.at(-1)!.p99.toFixed(2)} ms`);
      e.push(await endToEnd(dbs));
      log(
        `end to end: ${Math.round(e.at(-1)!.tasksPerSecond)} tasks/s; all workflows done after ${e.at(-1)!.workflowsDoneS.toFixed(1)} s`,
      );
    }
    // The last line has exactly the keys; the load average (every bench records it) goes on
    // the line before it, and the other medians to stderr.
    log(
      `medians: decision p50 ${round(median(d.map((x) => x.p50)))} ms, ${Math.round(median(d.map((x) => x.perSecond)))} decisions/s; ` +
        `last workflow done after ${round(median(e.map((x) => x.workflowsDoneS)), 1)} s; ` +
        `machine CPU ${round(median(e.map((x) => x.cpuMsPerTask)), 2)} ms per task end to end`,
    );
    console.log(JSON.stringify({ suite: 'router', ...load.end() }));
    console.log(
      JSON.stringify({
        suite: 'router',
        decision_p99_ms: round(median(d.map((x) => x.p99))),
        send_to_assigned_p50_ms: round(median(s.map((x) => x.p50)), 2),
        send_to_assigned_p99_ms: round(median(s.map((x) => x.p99)), 2),
        tasks_per_s: Math.round(median(e.map((x) => x.tasksPerSecond))),
      }),
    );
  });
}

await main();
