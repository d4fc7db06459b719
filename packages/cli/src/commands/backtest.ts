// `baton backtest`: Day ORB backtests and parameter sweeps as durable executions, their reports, and
// metrics of a records CSV.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { BatonError, Client, Worker, type Store } from '@baton/core';
import {
  BACKTEST_QUEUE,
  RANK_METRICS,
  backtestRun,
  backtestSweep,
  gridPoints,
  loadManifest,
  metricsFromRecords,
  rankPoints,
  runSettings,
  type BacktestInput,
  type BacktestSummary,
  type RankMetric,
  type SweepPoint,
} from '@baton/backtest';
import { formatDiagnostic } from '@baton/flows';
import { table } from '../format.js';
import { openStore, makeLogger, withStore, type GlobalOptions, type Io } from '../context.js';
import { reportingConfigErrors } from './config.js';
import { collect, parseIntOption } from './options.js';
import { untilSignal } from './worker.js';

interface RunFlags {
  manifest: string;
  csv: string;
  mode?: 'conservative' | 'bridge';
  symbol?: string;
  equity?: string;
  set: string[];
  strict?: boolean;
  startTs?: string;
  endTs?: string;
  json?: boolean;
  concurrency: string;
}

function runOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      '--manifest <file>',
      'strategy manifest (YAML, the source format: meta, strategy, router, risk, runner)',
    )
    .requiredOption('--csv <file>', 'bars: timestamp,symbol,tf,o,h,l,c,v,spread and any extra columns')
    .addOption(
      new Option('--mode <mode>', 'fill model (picks the manifest instrument of that mode)').choices([
        'conservative',
        'bridge',
      ]),
    )
    .option('--symbol <symbol>', 'instrument symbol, when the manifest has several')
    .option('--equity <n>', 'starting equity (default: runner.cli_args.equity, else 100000)')
    .option('--set <param=value>', 'set a strategy parameter over the manifest (repeatable)', collect, [])
    .option('--strict', 'refuse the CSV at the first bad row instead of counting it')
    .option('--start-ts <iso>', 'first bar time to use (inclusive)')
    .option('--end-ts <iso>', 'last bar time to use (inclusive)')
    .option('-c, --concurrency <n>', 'runs at once in this process', '2');
}

function scalar(text: string, where: string): number | boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) {
    throw new BatonError('E_INVALID_OPTION', `${where}: '${text}' is not a number (or true/false)`);
  }
  return n;
}

/** `name=value` pairs of --set. */
function parseSets(sets: readonly string[]): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0)
      throw new BatonError('E_INVALID_OPTION', `--set '${s}': write param=value, e.g. --set k_tp=1.5`);
    out[s.slice(0, eq).trim()] = scalar(s.slice(eq + 1).trim(), `--set ${s}`);
  }
  return out;
}

/** `name=v1,v2,…` of --grid. */
export function parseGrid(grids: readonly string[]): Record<string, (number | boolean)[]> {
  if (grids.length === 0)
    throw new BatonError('E_INVALID_OPTION', "a sweep needs at least one --grid, e.g. --grid 'or_n=4,6,8'");
  const out: Record<string, (number | boolean)[]> = {};
  for (const g of grids) {
    const eq = g.indexOf('=');
    if (eq <= 0)
      throw new BatonError(
        'E_INVALID_OPTION',
        `--grid '${g}': write param=v1,v2,…, e.g. --grid 'or_n=4,6,8'`,
      );
    const name = g.slice(0, eq).trim();
    if (name in out)
      throw new BatonError(
        'E_INVALID_OPTION',
        `--grid names '${name}' twice; give all its values in one --grid`,
      );
    out[name] = g
      .slice(eq + 1)
      .split(',')
      .map((v) => scalar(v.trim(), `--grid ${g}`));
  }
  return out;
}

/** The run's input, after the manifest and the overrides were checked here (errors with file:line:col). */
async function checkedInput(
  io: Io,
  o: RunFlags,
  overrideSets: readonly Record<string, number | boolean>[],
): Promise<Omit<BacktestInput, 'overrides'>> {
  const equity = o.equity === undefined ? undefined : Number(o.equity);
  if (equity !== undefined && !(equity > 0))
    throw new BatonError('E_INVALID_OPTION', `--equity '${o.equity}' must be a positive number`);
  const manifest = await reportingConfigErrors(io, async () => loadManifest(o.manifest));
  for (const w of manifest.warnings) io.err(formatDiagnostic(w));
  for (const overrides of overrideSets)
    runSettings(manifest.value, { mode: o.mode, symbol: o.symbol, equity, overrides });
  if (!existsSync(o.csv)) throw new BatonError('E_NOT_FOUND', `--csv ${o.csv}: no such file`);
  return {
    manifest: o.manifest,
    csv: o.csv,
    ...(o.mode && { mode: o.mode }),
    ...(o.symbol && { symbol: o.symbol }),
    ...(equity !== undefined && { equity }),
    ...(o.strict && { strict: true }),
    ...(o.startTs && { start_ts: o.startTs }),
    ...(o.endTs && { end_ts: o.endTs }),
  };
}

/** A worker for backtest runs and sweeps, on their queue only. */
function backtestWorker(store: Store, concurrency: number, lease?: string): Worker {
  return new Worker(store, {
    jobs: [backtestRun],
    workflows: [backtestSweep],
    queues: [BACKTEST_QUEUE],
    concurrency,
    ...(lease && { lease }),
  });
}

/** Runs `fn` with a worker on the backtest queue in this process. */
async function withWorker<T>(
  g: GlobalOptions,
  concurrency: number,
  fn: (client: Client, store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore(g, makeLogger({ logLevel: 'error', ...g }));
  try {
    await store.migrate();
    const worker = backtestWorker(store, concurrency);
    await worker.start();
    try {
      return await fn(new Client(store, [backtestRun]), store);
    } finally {
      await worker.stop({ deadline: '5s' });
    }
  } finally {
    await store.close();
  }
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(4);
  return String(v);
}

function summaryText(id: string, s: BacktestSummary): string {
  const lines = [
    `execution      ${id}`,
    `mode           ${s.mode}`,
    `bars           ${s.bars}${s.skipped_rows ? ` (${s.skipped_rows} rows skipped)` : ''}`,
    `trades         ${s.trades}`,
    `wins           ${fmt(s.wins)}`,
    `win rate       ${fmt(s.win_rate)}`,
    `total pips     ${fmt(s.total_pips)}`,
    `total value    ${fmt(s.total_pnl_value)}`,
    `sharpe         ${fmt(s.sharpe)}`,
    `max drawdown   ${fmt(s.max_drawdown)}`,
    'artifacts',
    ...Object.entries(s.artifacts).map(([name, digest]) => `  ${name.padEnd(13)}${digest}`),
    `Inspect with: baton artifacts list ${id}`,
  ];
  return lines.join('\n');
}

function pointsTable(points: readonly SweepPoint[], by: RankMetric, top?: number): string {
  const ranked = rankPoints(points, by).slice(0, top);
  const params = [...new Set(points.flatMap((p) => Object.keys(p.overrides)))];
  const figures = (p: SweepPoint) =>
    p.error === undefined
      ? [String(p.trades), fmt(p.wins), fmt(p.total_pips), fmt(p.sharpe), fmt(p.max_drawdown)]
      : ['failed', '-', '-', '-', '-'];
  const failed = ranked.filter((p) => p.error !== undefined);
  return [
    table(
      [
        '#',
        ...params.map((p) => p.toUpperCase()),
        'TRADES',
        'WINS',
        'TOTAL PIPS',
        'SHARPE',
        'MAX DD',
        'EXECUTION',
      ],
      ranked.map((p, i) => [
        String(i + 1),
        ...params.map((k) => fmt(p.overrides[k])),
        ...figures(p),
        p.execution,
      ]),
    ),
    ...failed.map((p) => `${p.execution} failed: ${p.error}`),
  ].join('\n');
}

const byOption = () =>
  new Option('--by <metric>', 'rank by this metric').choices(Object.keys(RANK_METRICS)).default('sharpe');

export function backtestCommand(globals: () => GlobalOptions, io: Io): Command {
  const cmd = new Command('backtest').description(
    'Day ORB backtests and parameter sweeps, run as durable jobs (docs/backtest.md)',
  );

  cmd.addCommand(
    runOptions(
      new Command('run').description(
        'run one backtest as a durable job; its outputs go to the artifacts ledger',
      ),
    )
      .option('--resume <state.json>', 'resume from the state of an earlier run')
      .option(
        '--out <dir>',
        'also write params.json, metrics.json, records.csv, daily.csv and state.json there',
      )
      .option('--json', "print metrics.json (the source runner's keys)")
      .action(async (o: RunFlags & { resume?: string; out?: string }) => {
        const overrides = parseSets(o.set);
        const input: BacktestInput = { ...(await checkedInput(io, o, [overrides])), overrides };
        if (o.resume) input.resume = o.resume;
        await withWorker(globals(), 1, async (client) => {
          const { id } = await client.enqueue(backtestRun, input);
          const summary = await client.result<BacktestSummary>(id, { timeout: '24h' });
          if (o.out) {
            mkdirSync(o.out, { recursive: true });
            for (const name of Object.keys(summary.artifacts)) {
              writeFileSync(join(o.out, name), (await client.artifacts.get({ execution: id, name })).bytes);
            }
          }
          if (o.json) io.out((await client.artifacts.get({ execution: id, name: 'metrics.json' })).text());
          else io.out(summaryText(id, summary));
        });
      }),
  );

  cmd.addCommand(
    runOptions(
      new Command('sweep').description(
        'run a parameter grid as a durable workflow; a killed worker resumes it without redoing finished runs',
      ),
    )
      .option(
        '--grid <param=v1,v2>',
        'values of one strategy parameter (repeatable; every combination runs)',
        collect,
        [],
      )
      .addOption(byOption())
      .option('--detach', 'start the sweep and return; `baton backtest worker` processes run it')
      .option('--json', 'print the points as JSON')
      .action(async (o: RunFlags & { grid: string[]; by: RankMetric; detach?: boolean }) => {
        if (o.set.length)
          throw new BatonError(
            'E_INVALID_OPTION',
            'a sweep takes --grid, not --set: give a fixed value as a one-value grid',
          );
        const grid = parseGrid(o.grid);
        const concurrency = parseIntOption(o.concurrency, '--concurrency')!;
        const points = gridPoints(grid);
        // every point is checked here, so a bad value is refused before anything runs
        const base = await checkedInput(io, o, points);
        const input = { ...base, grid, concurrency };
        if (o.detach) {
          await withStore(globals(), async (store) => {
            const { id } = await new Client(store).start(backtestSweep, input);
            io.out(
              `sweep ${id}: ${points.length} runs; start workers with \`baton backtest worker\`, then \`baton backtest report ${id}\``,
            );
          });
          return;
        }
        await withWorker(globals(), concurrency, async (client) => {
          const { id } = await client.start(backtestSweep, input);
          io.err(`sweep ${id}: ${points.length} runs, ${concurrency} at once`);
          const { points: done } = await client.result<{ points: SweepPoint[] }>(id, { timeout: '24h' });
          io.out(o.json ? JSON.stringify(done, null, 2) : `${pointsTable(done, o.by)}\nsweep ${id}`);
        });
      }),
  );

  cmd.addCommand(
    new Command('report')
      .description("a finished sweep's runs, ranked by a metric")
      .argument('<sweep>', 'the sweep workflow id')
      .addOption(byOption())
      .option('--top <n>', 'show only the best n')
      .option('--json', 'print the ranked points as JSON')
      .action(async (id: string, o: { by: RankMetric; top?: string; json?: boolean }) => {
        const top = parseIntOption(o.top, '--top');
        await withStore(globals(), async (store) => {
          const e = await new Client(store).get(id);
          if (e.name !== backtestSweep.name) {
            throw new BatonError(
              'E_INVALID_OPTION',
              `${id} is a '${e.name}' ${e.kind}, not a backtest sweep`,
            );
          }
          if (e.status !== 'completed') {
            throw new BatonError(
              'E_INVALID_STATE',
              `sweep ${id} is ${e.status}; its report is ready when it completes (see \`baton workflows show ${id}\`)`,
            );
          }
          const points = (e.output as { points: SweepPoint[] }).points;
          io.out(
            o.json
              ? JSON.stringify(rankPoints(points, o.by).slice(0, top), null, 2)
              : pointsTable(points, o.by, top),
          );
        });
      }),
  );

  cmd.addCommand(
    new Command('worker')
      .description('serve the backtest queue (runs and sweeps) until Ctrl-C')
      .option('-c, --concurrency <n>', 'runs at once', '1')
      .option(
        '--lease <duration>',
        'how long a run of a worker that died stays its own before another takes it over (e.g. 30s)',
      )
      .action(async (o: { concurrency: string; lease?: string }) => {
        const store = await openStore(globals());
        try {
          const worker = backtestWorker(store, parseIntOption(o.concurrency, '--concurrency')!, o.lease);
          await worker.start();
          io.out(`backtest worker on queue '${BACKTEST_QUEUE}'; Ctrl-C to stop`);
          await untilSignal();
          await worker.stop({ deadline: '10s' });
        } finally {
          await store.close();
        }
      }),
  );

  cmd.addCommand(
    new Command('metrics')
      .description(
        'metrics of a records CSV (stage,pnl_pips,pnl_value,qty): trades, wins, total pips, sharpe, max drawdown, equity',
      )
      .requiredOption('--records <file>', 'records CSV')
      .option('--equity <n>', 'starting equity', '0')
      .option('--json', 'print JSON')
      .action((o: { records: string; equity: string; json?: boolean }) => {
        const start = Number(o.equity);
        if (!Number.isFinite(start))
          throw new BatonError('E_INVALID_OPTION', `--equity '${o.equity}' is not a number`);
        const m = metricsFromRecords(readFileSync(o.records, 'utf8'), start, o.records);
        io.out(
          o.json
            ? JSON.stringify(m)
            : [
                `trades        ${m.trades}`,
                `wins          ${m.wins}`,
                `total pips    ${m.total_pips}`,
                `sharpe        ${m.sharpe ?? '-'}`,
                `max drawdown  ${m.max_drawdown ?? '-'}`,
                `equity        ${m.equity.join(', ')}`,
              ].join('\n'),
        );
      }),
  );
  return cmd;
}
