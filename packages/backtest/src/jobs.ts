// Backtests on the durable engine: `backtest.run`, a job whose outputs are ledger artifacts, and
// `backtest.sweep`, a workflow that runs a parameter grid as activities with a concurrency limit.
import { z } from 'zod';
import {
  BatonError,
  NonRetryableError,
  defineJob,
  defineWorkflow,
  isBatonError,
  type JobContext,
} from '@baton/core';
import { parseBars } from './bars.js';
import { loadManifestText, runSettings } from './manifest.js';
import { runBacktest } from './runner.js';
import { headline, type HeadlineMetrics } from './results.js';
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
export interface BacktestSummary extends HeadlineMetrics {
  [key: string]: unknown;
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
  // The run works on the bytes whose digests the ledger records.
  const [manifestIn, csvIn] = await ctx.artifacts.readMany([
    { path: input.manifest, mediaType: 'application/yaml' },
    { path: input.csv, mediaType: 'text/csv' },
  ]);
  const manifest = parsed(manifestIn.artifact.digest, () =>
    loadManifestText(input.manifest, manifestIn.bytes.toString('utf8')),
  );
  const settings = runSettings(manifest.value, {
    mode: input.mode,
    symbol: input.symbol,
    equity: input.equity,
    overrides: input.overrides,
  });
  const load = {
    symbol: settings.symbol,
    timeframe: settings.timeframe,
    strict: input.strict,
    startTs: input.start_ts,
    endTs: input.end_ts,
  };
  const { bars, report } = parsed(`${csvIn.artifact.digest} ${JSON.stringify(load)}`, () =>
    parseBars(csvIn.bytes.toString('utf8'), { ...load, source: input.csv }),
  );
  let resume: RunState | undefined;
  if (input.resume) {
    const state = await ctx.artifacts.read(input.resume, { mediaType: 'application/json' });
    resume = parseState(state.bytes.toString('utf8'), input.resume);
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
  // The five files in one statement.
  const put = await ctx.artifacts.putMany(
    OUTPUTS.map((name) => ({
      name,
      data: files[name][0],
      mediaType: files[name][1],
    })),
  );
  const artifacts: Record<string, string> = {};
  for (const a of put) artifacts[a.name] = a.digest;
  ctx.heartbeat({ bars: bars.length, of: bars.length });
  return {
    ...headline(result),
    mode: settings.mode,
    overrides: input.overrides ?? {},
    bars: bars.length,
    skipped_rows: report.skipped_rows,
    artifacts,
  };
}

// A sweep's runs read the same files: what was parsed is kept per content digest (a few entries),
// so a worker parses each input once. Parsed values are never changed by a run.
const PARSED_KEPT = 4;
const parsedCache = new Map<string, unknown>();

function parsed<T>(key: string, parse: () => T): T {
  if (parsedCache.has(key)) return parsedCache.get(key) as T;
  const value = parse();
  parsedCache.set(key, value);
  if (parsedCache.size > PARSED_KEPT) parsedCache.delete(parsedCache.keys().next().value!);
  return value;
}

function parseState(text: string, path: string): RunState {
  try {
    const state = JSON.parse(text) as RunState;
    if (
      typeof state?.meta !== 'object' ||
      typeof state.runtime !== 'object' ||
      typeof state.metrics !== 'object'
    ) {
      throw new Error('it has no meta, runtime and metrics');
    }
    return state;
  } catch (err) {
    throw new BatonError(
      'E_INPUT_INVALID',
      `${path} is not a state.json a run wrote: ${(err as Error).message}`,
    );
  }
}

export const sweepInput = backtestInput.omit({ overrides: true, resume: true }).extend({
  /** Parameter → values; every combination is one run. */
  grid: z.record(z.string(), z.array(overrideValue).min(1)),
  /** Runs at once (default 2). */
  concurrency: z.int().min(1).max(256).optional(),
});
export type SweepInput = z.infer<typeof sweepInput>;

/** One grid point of a sweep: its run's summary, or why the run failed. */
export type SweepPoint =
  | (BacktestSummary & { execution: string; error?: undefined })
  | { execution: string; overrides: Record<string, number | boolean>; error: string };

/** The most points one sweep may hold. */
export const MAX_SWEEP_POINTS = 10_000;

/**
 * The grid's points, in a fixed order: parameters by name, the first varying slowest.
 * @throws BatonError `E_INVALID_OPTION` for a grid of more than MAX_SWEEP_POINTS points (checked
 *   before any point is built).
 */
export function gridPoints(
  grid: Record<string, readonly (number | boolean)[]>,
): Record<string, number | boolean>[] {
  const size = Object.values(grid).reduce((n, values) => n * values.length, 1);
  if (size > MAX_SWEEP_POINTS) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `the grid has ${size} points, over the limit of ${MAX_SWEEP_POINTS}`,
    );
  }
  let points: Record<string, number | boolean>[] = [{}];
  for (const [name, values] of Object.entries(grid).sort(([a], [b]) => (a < b ? -1 : 1))) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [name]: v })));
  }
  return points;
}

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
    const results: SweepPoint[] = new Array(points.length);
    // In flight: each resolves to its point's index once its run ended. Promise.race refills the
    // window as soon as any run ends, and decides alike on replay.
    const running = new Map<number, Promise<number>>();
    for (const [i, overrides] of points.entries()) {
      if (running.size >= concurrency) running.delete(await Promise.race(running.values()));
      const h = await ctx.startActivity(backtestRun, { ...base, overrides });
      running.set(
        i,
        h.result().then(
          (summary) => ((results[i] = { execution: h.id, ...summary }), i),
          (err: unknown) => ((results[i] = { execution: h.id, overrides, error: (err as Error).message }), i),
        ),
      );
    }
    await Promise.all(running.values());
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

/** Points ranked by `metric`, best first; points without a value (or whose run failed) go last. */
export function rankPoints(points: readonly SweepPoint[], metric: RankMetric): SweepPoint[] {
  const value = (p: SweepPoint) => (p.error === undefined ? p[metric] : null);
  return [...points].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null) return va === null ? (vb === null ? 0 : 1) : -1;
    return vb - va;
  });
}
