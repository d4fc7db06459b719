// Backtests on the durable engine: `backtest.run`, a job whose outputs are ledger artifacts, and
// `backtest.sweep`, a workflow that runs a parameter grid as activities with a concurrency limit.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  BatonError,
  NonRetryableError,
  defineJob,
  defineWorkflow,
  isBatonError,
  type ExecutionHandle,
  type JobContext,
} from '@baton/core';
import { parseBars } from './bars.js';
import { loadManifest, runSettings } from './manifest.js';
import { runBacktest } from './runner.js';
import { dailyCsv, metricsJson, paramsJson, recordsCsv } from './outputs.js';
import type { RunState } from './state.js';

export const BACKTEST_QUEUE = 'backtest';

const overrideValue = z.union([z.number(), z.boolean()]);

export const backtestInput = z.strictObject({
  manifest: z.string().min(1),
  csv: z.string().min(1),
  mode: z.enum(['conservative', 'bridge']).optional(),
  symbol: z.string().optional(),
  equity: z.number().positive().optional(),
  /** Strategy parameters set over the manifest's. */
  overrides: z.record(z.string(), overrideValue).optional(),
  strict: z.boolean().optional(),
  start_ts: z.string().optional(),
  end_ts: z.string().optional(),
  /** A state.json to resume from. */
  resume: z.string().optional(),
});
export type BacktestInput = z.infer<typeof backtestInput>;

/** What a run returns: its headline metrics and the digests of its outputs. */
export interface BacktestSummary {
  [key: string]: unknown;
  trades: number;
  wins: number;
  win_rate: number | null;
  total_pips: number;
  total_pnl_value: number;
  sharpe: number | null;
  max_drawdown: number | null;
  mode: string;
  overrides: Record<string, number | boolean>;
  bars: number;
  skipped_rows: number;
  /** Output name → sha256 digest. */
  artifacts: Record<string, string>;
}

const OUTPUTS = ['params.json', 'metrics.json', 'records.csv', 'daily.csv', 'state.json'] as const;

/** One backtest: inputs declared to the ledger, the run, its five output files put as artifacts. */
export const backtestRun = defineJob(
  'backtest.run',
  { queue: BACKTEST_QUEUE, schema: backtestInput, retry: { maxAttempts: 3 }, heartbeatTimeout: '2m' },
  async (input: BacktestInput, ctx: JobContext): Promise<BacktestSummary> => {
    try {
      return await runJob(input, ctx);
    } catch (err) {
      // Bad input never succeeds on a retry.
      if (
        isBatonError(err) &&
        ['E_CONFIG_INVALID', 'E_INPUT_INVALID', 'E_INVALID_OPTION', 'E_NOT_FOUND'].includes(err.code)
      ) {
        throw new NonRetryableError(err.message, { cause: err, details: err.details });
      }
      throw err;
    }
  },
);

async function runJob(input: BacktestInput, ctx: JobContext): Promise<BacktestSummary> {
  const manifestArt = await ctx.artifacts.input(input.manifest, { mediaType: 'application/yaml' });
  const csvArt = await ctx.artifacts.input(input.csv, { mediaType: 'text/csv' });
  const manifest = loadManifest(input.manifest);
  await sameContent(input.manifest, manifestArt.digest);
  const settings = runSettings(manifest.value, {
    mode: input.mode,
    symbol: input.symbol,
    equity: input.equity,
    overrides: input.overrides,
  });
  const text = await sameContent(input.csv, csvArt.digest);
  const { bars, report } = parseBars(text, {
    symbol: settings.symbol,
    timeframe: settings.timeframe,
    strict: input.strict,
    startTs: input.start_ts,
    endTs: input.end_ts,
    source: input.csv,
  });
  let resume: RunState | undefined;
  if (input.resume) {
    const art = await ctx.artifacts.input(input.resume, { mediaType: 'application/json' });
    resume = JSON.parse(await sameContent(input.resume, art.digest)) as RunState;
  }
  const result = runBacktest(bars, settings, {
    resume,
    onProgress: (done, total) => ctx.heartbeat({ bars: done, of: total }),
  });
  const metrics = metricsJson(result, settings, report);
  const files: Record<(typeof OUTPUTS)[number], [string | Record<string, unknown>, string]> = {
    'params.json': [paramsJson(settings), 'application/json'],
    'metrics.json': [metrics, 'application/json'],
    'records.csv': [recordsCsv(result.records), 'text/csv'],
    'daily.csv': [dailyCsv(result.daily), 'text/csv'],
    'state.json': [result.state as unknown as Record<string, unknown>, 'application/json'],
  };
  const artifacts: Record<string, string> = {};
  for (const name of OUTPUTS) {
    const [data, mediaType] = files[name];
    artifacts[name] = (await ctx.artifacts.put(name, JSON.parse(JSON.stringify(data)), { mediaType })).digest;
  }
  ctx.heartbeat({ bars: bars.length, of: bars.length });
  return {
    trades: result.trades,
    wins: result.wins,
    win_rate: result.win_rate,
    total_pips: result.total_pips,
    total_pnl_value: result.total_pnl_value,
    sharpe: result.sharpe,
    max_drawdown: result.max_drawdown,
    mode: settings.mode,
    overrides: input.overrides ?? {},
    bars: bars.length,
    skipped_rows: report.skipped_rows,
    artifacts,
  };
}

/** Reads a declared input again and checks it is what the ledger recorded (it may change in between). */
async function sameContent(path: string, digest: string): Promise<string> {
  const bytes = await readFile(path);
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (got !== digest) {
    throw new BatonError(
      'E_INVALID_STATE',
      `${path} changed while the run read it (${digest} was declared, ${got} read); run again`,
    );
  }
  return bytes.toString('utf8');
}

export const sweepInput = backtestInput.omit({ overrides: true, resume: true }).extend({
  /** Parameter → values; every combination is one run. */
  grid: z.record(z.string(), z.array(overrideValue).min(1)),
  /** Runs at once (default 2). */
  concurrency: z.int().min(1).max(256).optional(),
});
export type SweepInput = z.infer<typeof sweepInput>;

export interface SweepPoint extends BacktestSummary {
  execution: string;
}

/** The grid's points, in a fixed order: parameters by name, the first varying slowest. */
export function gridPoints(
  grid: Record<string, readonly (number | boolean)[]>,
): Record<string, number | boolean>[] {
  let points: Record<string, number | boolean>[] = [{}];
  for (const [name, values] of Object.entries(grid).sort(([a], [b]) => (a < b ? -1 : 1))) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  }
  return points;
}

/** The most points one sweep may hold. */
export const MAX_SWEEP_POINTS = 10_000;

/**
 * A parameter sweep: one `backtest.run` activity per grid point, at most `concurrency` at once. A
 * killed worker resumes it from its history: finished points are not run again.
 */
export const backtestSweep = defineWorkflow(
  'backtest.sweep',
  { queue: BACKTEST_QUEUE, schema: sweepInput },
  async (ctx, input: SweepInput): Promise<{ points: SweepPoint[] }> => {
    const { grid, concurrency = 2, ...base } = input;
    const points = gridPoints(grid);
    if (points.length > MAX_SWEEP_POINTS) {
      throw new NonRetryableError(
        `the grid has ${points.length} points, over the limit of ${MAX_SWEEP_POINTS}`,
      );
    }
    const results: SweepPoint[] = [];
    const running: ExecutionHandle<BacktestSummary>[] = [];
    const collect = async () => {
      const h = running.shift()!;
      results.push({ execution: h.id, ...(await h.result()) });
    };
    for (const overrides of points) {
      if (running.length >= concurrency) await collect();
      running.push(await ctx.startActivity(backtestRun, { ...base, overrides }));
    }
    while (running.length) await collect();
    return { points: results };
  },
);

/** The metrics a sweep report may rank by, and whether larger is better. */
export const RANK_METRICS = {
  sharpe: true,
  total_pips: true,
  total_pnl_value: true,
  win_rate: true,
  wins: true,
  trades: true,
  max_drawdown: true,
} as const;
export type RankMetric = keyof typeof RANK_METRICS;

/** Points ranked by `metric`, best first; points without a value go last. */
export function rankPoints(points: readonly SweepPoint[], metric: RankMetric): SweepPoint[] {
  const value = (p: SweepPoint) => p[metric] as number | null;
  return [...points].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null) return va === null ? (vb === null ? 0 : 1) : -1;
    return vb - va;
  });
}
