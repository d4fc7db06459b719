// `npm run bench -- queries [--repeat N]`
//
// The named-query service on the bench data: a SQLite file of 100,000 tasks, 1,000 sessions and
// 10,000 errors (examples/architect/make-db.ts, size `bench`), generated in a temporary directory.
//
// - Overhead: every fixture query, Baton's `run` with its cache off, beside the same SQL as a raw
//   better-sqlite3 prepared statement (SQLite binds `:name` itself) on its own read-only connection,
//   with the same values (the defaults, and status=pending (idle for sessions), task_type=bug_fix,
//   days=-7). The two alternate, one run each, so drift hits both alike; each query gets about
//   250 ms per side per pass. Per query: the median of each side and their ratio; overhead_vs_raw is the median ratio.
// - Cached: the p50 of 20,000 cache hits of tasks_by_status, each timed alone, in µs.
// - Indexes: tasks_by_status and tasks_pending_high_priority before and after `applyIndexes`.
// - Config: loadConfig of examples/architect/baton (the five fixture files and datasources.yaml),
//   cold (first) and the median of 20 more; one hot reload under a live watcher (the reload itself,
//   and from the file write to the subscriber); and one reload of the query service (13 queries prepared).
// Progress goes to stderr, a table to stdout, and the last line is one JSON object.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@baton/core';
import { loadConfig } from '../packages/flows/src/config/load.js';
import { datasourcesSchema } from '../packages/flows/src/config/kinds/datasources.js';
import type { QueriesConfig } from '../packages/flows/src/config/kinds/queries.js';
import type { ConfigView } from '../packages/flows/src/config/types.js';
import { createQueryService } from '../packages/flows/src/queries/index.js';
import { openSqlite, type SqliteStatement } from '../packages/flows/src/queries/sqlite-driver.js';
import { absentValue } from '../packages/flows/src/queries/params.js';
import { makeArchitectDb } from '../examples/architect/make-db.js';
import { intArg } from './_args.js';
import { watchLoad } from './_load.js';

const REPEAT = intArg('repeat', 3);
const BUDGET_MS = 250;
const CACHED_HITS = 20_000;
const CONFIG_DIR = fileURLToPath(new URL('../examples/architect/baton', import.meta.url));
const ENV = {
  ANTHROPIC_API_KEY: 'bench',
  OPENAI_API_KEY: 'bench',
  GEMINI_API_KEY: 'bench',
  ANYTHINGLLM_API_KEY: 'bench',
};
/** Values for the params the fixture requires, and for `days`, whose default matches nothing. */
const GIVEN: Record<string, unknown> = { status: 'pending', task_type: 'bug_fix', days: '-7' };
/** Per query, where the common value matches nothing. */
const GIVEN_FOR: Record<string, Record<string, unknown>> = { sessions_by_status: { status: 'idle' } };

const log = (msg: string) => process.stderr.write(`[queries] ${msg}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const time = (fn: () => unknown) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
const timeAsync = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};
const fmt = (ms: number) => (ms < 1 ? `${round(ms * 1000, 1)} µs` : `${round(ms, 2)} ms`);

// ---------------------------------------------------------------------------------------------
// Data and configuration

const tmp = mkdtempSync(join(tmpdir(), 'baton-bench-queries-'));
const dbFile = join(tmp, 'architect.db');
log(`generating the bench database in ${dbFile}`);
const generated = makeArchitectDb(dbFile, { size: 'bench' });
log(
  `${generated.tasks.length} tasks, ${generated.sessions.length} sessions, ${generated.errors.length} errors, ${generated.prompts.length} prompts`,
);

log('loading examples/architect/baton');
const coldLoadMs = await timeAsync(() => loadConfig(CONFIG_DIR, { env: ENV }));
const loadMs: number[] = [];
for (let i = 0; i < 20; i++) loadMs.push(await timeAsync(() => loadConfig(CONFIG_DIR, { env: ENV })));
const config = await loadConfig(CONFIG_DIR, { env: ENV });
const fixture = config.value.queries!;

// A hot reload: a copy of the directory under a live watcher, one value edited. Timed twice: the
// reload itself (read, merge, validate, diff), and from the file write to the subscriber (with a
// 10 ms debounce instead of the default 100 ms, which is waiting, not work).
const liveDir = join(tmp, 'config');
cpSync(CONFIG_DIR, liveDir, { recursive: true });
const live = await loadConfig(liveDir, { env: ENV });
let changed: () => void = () => undefined;
const watcher = live.watch(() => changed(), { debounceMs: 10, logger: createLogger('silent') });
const routingFile = join(liveDir, 'base', 'routing_rules.yaml');
const routingText = readFileSync(routingFile, 'utf8');
writeFileSync(routingFile, routingText.replace('priority: 9', 'priority: 8'));
await new Promise<void>((r) => (changed = r));
writeFileSync(routingFile, routingText);
const configReloadMs = await timeAsync(async () => {
  watcher.reload();
});
const configReloadE2eMs = await timeAsync(async () => {
  const seen = new Promise<void>((r) => (changed = r));
  writeFileSync(routingFile, routingText.replace('priority: 9', 'priority: 7'));
  await seen;
});
watcher.close();
const datasources = datasourcesSchema.parse({ datasources: { architect: { type: 'sqlite', path: dbFile } } });
/** The loaded configuration's queries on the bench database. */
const viewOf = (queries: QueriesConfig): ConfigView => ({
  dir: tmp,
  value: { queries, datasources },
  locate: (path) => config.locate(path),
});
const uncached: QueriesConfig = {
  ...fixture,
  queries: Object.fromEntries(Object.entries(fixture.queries).map(([n, q]) => [n, { ...q, cache_ttl: 0 }])),
};
const logger = createLogger('silent');
const baton = await createQueryService(viewOf(uncached), { logger });
const cachedService = await createQueryService(viewOf(fixture), { logger });
const reloadMs = await timeAsync(() => cachedService.reload(viewOf(fixture)));

// ---------------------------------------------------------------------------------------------
// Baton beside raw better-sqlite3

const raw = openSqlite(dbFile, { readonly: true, fileMustExist: true });

interface Case {
  name: string;
  params: Record<string, unknown>;
  stmt: SqliteStatement;
  /** The values as SQLite binds `:name` itself (defaults applied, as Baton converts them). */
  rawValues: Record<string, unknown>;
}
const cases: Case[] = Object.entries(fixture.queries).map(([name, q]) => {
  const given = { ...GIVEN, ...GIVEN_FOR[name] };
  const params = Object.fromEntries(
    q.params.filter((p) => p.name in given).map((p) => [p.name, given[p.name]]),
  );
  const rawValues = Object.fromEntries(q.params.map((p) => [p.name, params[p.name] ?? absentValue(p)]));
  return { name, params, stmt: raw.prepare(q.sql), rawValues };
});

/** Alternates Baton and raw runs of `c` for about BUDGET_MS each; returns every sample. */
async function measure(c: Case, samples: { baton: number[]; raw: number[] }): Promise<void> {
  const once = await timeAsync(() => baton.run(c.name, c.params));
  const iterations = Math.max(5, Math.min(2000, Math.round(BUDGET_MS / Math.max(once, 0.001))));
  for (let i = 0; i < iterations; i++) {
    samples.baton.push(await timeAsync(() => baton.run(c.name, c.params)));
    samples.raw.push(time(() => c.stmt.all(c.rawValues)));
  }
}

interface Row {
  query: string;
  rows: number;
  baton_ms: number;
  raw_ms: number;
  ratio: number;
}

async function compare(selected: Case[], label: string): Promise<Row[]> {
  const samples = new Map(selected.map((c) => [c.name, { baton: [] as number[], raw: [] as number[] }]));
  for (let pass = 1; pass <= REPEAT; pass++) {
    for (const c of selected) {
      log(`${label} pass ${pass}/${REPEAT}: ${c.name}`);
      await measure(c, samples.get(c.name)!);
    }
  }
  const rows: Row[] = [];
  for (const c of selected) {
    const result = await baton.run(c.name, c.params);
    const rawRows = c.stmt.all(c.rawValues).length;
    if (result.count !== Math.min(rawRows, fixture.optimization?.max_results_without_limit ?? Infinity)) {
      throw new Error(`${c.name}: Baton returned ${result.count} rows, the raw statement ${rawRows}`);
    }
    const s = samples.get(c.name)!;
    const [b, r] = [median(s.baton), median(s.raw)];
    rows.push({ query: c.name, rows: result.count, baton_ms: b, raw_ms: r, ratio: b / r });
  }
  return rows;
}

const load = watchLoad(log);
// Warm both sides (page cache, JIT) before anything is timed.
for (const c of cases) {
  await baton.run(c.name, c.params);
  c.stmt.all(c.rawValues);
}
const overhead = await compare(cases, 'uncached');

log(`cached: ${CACHED_HITS} hits of tasks_by_status`);
await cachedService.run('tasks_by_status', { status: 'pending' });
const hits: number[] = [];
for (let i = 0; i < CACHED_HITS; i++) {
  hits.push(await timeAsync(() => cachedService.run('tasks_by_status', { status: 'pending' })));
}
const cachedP50us = median(hits) * 1000;

const INDEXED = ['tasks_by_status', 'tasks_pending_high_priority'];
log('applyIndexes');
const applyMs = await timeAsync(() => baton.applyIndexes());
const after = await compare(
  cases.filter((c) => INDEXED.includes(c.name)),
  'after indexes',
);
const loadRecord = load.end();

// ---------------------------------------------------------------------------------------------
// Report

console.log(
  `queries bench: ${generated.tasks.length.toLocaleString('en')} tasks, median per query over ${REPEAT} passes, node ${process.version}`,
);
console.log(
  `${'query'.padEnd(28)} ${'rows'.padStart(5)} ${'baton'.padStart(10)} ${'raw'.padStart(10)}  ratio`,
);
for (const r of overhead) {
  console.log(
    `${r.query.padEnd(28)} ${String(r.rows).padStart(5)} ${fmt(r.baton_ms).padStart(10)} ${fmt(r.raw_ms).padStart(10)}  ${round(r.ratio, 3)}x`,
  );
}
const overheadVsRaw = median(overhead.map((r) => r.ratio));
console.log(`median ratio over ${overhead.length} queries: ${round(overheadVsRaw, 3)}x (target ≤ 1.2x)`);
console.log(`cached hit p50: ${round(cachedP50us, 2)} µs (target ≤ 50 µs)`);
const speedup: Record<string, number> = {};
for (const r of after) {
  const before = overhead.find((o) => o.query === r.query)!;
  speedup[r.query] = round(before.baton_ms / r.baton_ms, 1);
  console.log(
    `indexes: ${r.query.padEnd(28)} ${fmt(before.baton_ms)} → ${fmt(r.baton_ms)} (${speedup[r.query]}x; raw ${fmt(before.raw_ms)} → ${fmt(r.raw_ms)})`,
  );
}
console.log(`applyIndexes (6 indexes on 100k tasks): ${round(applyMs)} ms`);
console.log(
  `config: load ${round(median(loadMs))} ms (cold ${round(coldLoadMs)} ms, target < 50 ms); hot reload ${round(configReloadMs)} ms (file write to subscriber ${round(configReloadE2eMs)} ms, 10 ms debounce); reload of the query service ${round(reloadMs)} ms`,
);

await Promise.all([baton.close(), cachedService.close()]);
raw.close();
rmSync(tmp, { recursive: true, force: true });

console.log(
  JSON.stringify({
    suite: 'queries',
    ...loadRecord,
    overhead_vs_raw: round(overheadVsRaw, 3),
    cached_p50_us: round(cachedP50us, 2),
    config_load_ms: round(median(loadMs)),
    config_load_cold_ms: round(coldLoadMs),
    config_reload_ms: round(configReloadMs),
    config_reload_e2e_ms: round(configReloadE2eMs),
    reload_ms: round(reloadMs),
    apply_indexes_ms: round(applyMs),
    index_speedup: speedup,
    per_query_ratio: Object.fromEntries(overhead.map((r) => [r.query, round(r.ratio, 3)])),
    tasks: generated.tasks.length,
    repeat: REPEAT,
  }),
);
