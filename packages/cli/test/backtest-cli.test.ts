// `baton backtest …`: the real binary on an embedded store, with the source project's files.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { baton } from './run-baton.js';

const shared = (name: string) =>
  fileURLToPath(new URL(`../../../examples/backtest/invest4/${name}`, import.meta.url));
const MANIFEST = shared('day_orb_5m.yaml');
const CSV = shared('sample_orb.csv');

describe('baton backtest (embedded PGlite)', () => {
  let dir: string;
  let g: string[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-backtest-cli-'));
    g = ['--data-dir', join(dir, 'db')];
    // the sample CSV is over the inline limit: its blob goes to the blob directory
    process.env.BATON_BLOB_DIR = join(dir, 'blobs');
  });

  it("run --json prints metrics.json with the source's keys; --out writes the five files; a second run has the same digests", async () => {
    const out = join(dir, 'out');
    const r = await baton([
      'backtest',
      'run',
      '--manifest',
      MANIFEST,
      '--csv',
      CSV,
      '--mode',
      'bridge',
      '--json',
      '--out',
      out,
      ...g,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const metrics = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of [
      'trades',
      'wins',
      'win_rate',
      'total_pips',
      'total_pnl_value',
      'sharpe',
      'max_drawdown',
      'equity_curve',
    ]) {
      expect(metrics).toHaveProperty(key);
    }
    expect(metrics.mode).toBe('bridge');
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))).toEqual(metrics);
    for (const f of ['params.json', 'records.csv', 'daily.csv', 'state.json'])
      expect(existsSync(join(out, f))).toBe(true);
    expect(readFileSync(join(out, 'daily.csv'), 'utf8').split('\n')[0]).toBe(
      'date,breakouts,gate_pass,gate_block,ev_pass,ev_reject,fills,wins,pnl_pips',
    );

    const text = await baton([
      'backtest',
      'run',
      '--manifest',
      MANIFEST,
      '--csv',
      CSV,
      '--mode',
      'bridge',
      ...g,
    ]);
    expect(text.code).toBe(0);
    const digest = /metrics\.json\s+(sha256:[0-9a-f]{64})/.exec(text.stdout)?.[1];
    const written = readFileSync(join(out, 'metrics.json'));
    expect(digest).toBe(`sha256:${createHash('sha256').update(written).digest('hex')}`);
    const id = /execution\s+(\S+)/.exec(text.stdout)![1]!;
    const got = await baton(['artifacts', 'get', id, 'metrics.json', ...g]);
    expect(JSON.parse(got.stdout)).toEqual(metrics);
  });

  it('sweep runs the grid and prints it ranked; report ranks it again by another metric', async () => {
    const r = await baton([
      'backtest',
      'sweep',
      '--manifest',
      MANIFEST,
      '--csv',
      CSV,
      '--grid',
      'or_n=4,6',
      '--grid',
      'k_tp=1.0,1.25',
      '--by',
      'total_pips',
      ...g,
    ]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^#\s+K_TP\s+OR_N\s+TRADES/);
    expect(rows.slice(1, 5)).toHaveLength(4);
    const pips = rows.slice(1, 5).map((l) => Number(l.split(/\s+/)[5]));
    expect(pips).toEqual([...pips].sort((a, b) => b - a));
    const sweep = /^sweep (\S+)$/m.exec(r.stdout)![1]!;
    const report = await baton(['backtest', 'report', sweep, '--by', 'sharpe', '--top', '2', '--json', ...g]);
    const points = JSON.parse(report.stdout) as { sharpe: number }[];
    expect(points).toHaveLength(2);
    expect(points[0]!.sharpe).toBeGreaterThanOrEqual(points[1]!.sharpe);

    // where the sweep's time went: its four runs on the timeline, the engine's share
    const profile = await baton(['profile', sweep, ...g]);
    expect(profile.code).toBe(0);
    expect(profile.stdout).toMatch(new RegExp(`^workflow backtest.sweep  ${sweep}  completed`));
    expect(profile.stdout.match(/^ {2}#\d+ +activity backtest\.run /gm)).toHaveLength(4);
    expect(profile.stdout).toMatch(/^engine \(wake-ups, claims, replays\) +\|.{40}\| +\d/m);
    const json = JSON.parse((await baton(['profile', sweep, '--json', ...g])).stdout) as {
      totalMs: number;
      figures: { activities: number };
    };
    expect(json.figures.activities).toBeGreaterThan(0);
    const runs = JSON.parse(
      (await baton(['profile', '--name', 'backtest.run', '--since', '1h', '--json', ...g])).stdout,
    ) as {
      runs: number;
      percentiles: { run: { p50: number; max: number } };
    };
    expect(runs.runs).toBeGreaterThanOrEqual(4);
    expect(runs.percentiles.run.max).toBeGreaterThanOrEqual(runs.percentiles.run.p50);
    expect((await baton(['profile', ...g])).stderr).toMatch(/give an execution id, or --name/);
    expect((await baton(['profile', 'nope', ...g])).stderr).toMatch(/E_NOT_FOUND/);
    expect((await baton(['profile', '--name', 'backtest.run', '--since', 'soon', ...g])).stderr).toMatch(
      /--since/,
    );
    expect((await baton(['profile', '--name', 'never-ran', ...g])).stderr).toMatch(
      /no finished run of 'never-ran'/,
    );
  });

  it('metrics of the source records reproduce its pinned figures', async () => {
    const r = await baton([
      'backtest',
      'metrics',
      '--records',
      shared('runner_sample_records.csv'),
      '--json',
    ]);
    expect(JSON.parse(r.stdout)).toMatchObject({
      trades: 4,
      wins: 2,
      total_pips: 5,
      sharpe: 0.27660638840895513,
      max_drawdown: -10,
      equity: [0, 12, 7, 15, 5],
    });
  });

  it('bad input: manifest errors at file:line:col, a bad --grid, --set or --mode, a missing CSV, a report of a non-sweep', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(MANIFEST, 'utf8').replace('    k_sl: 0.6', '    k_sl: -1'));
    const m = await baton(['backtest', 'run', '--manifest', bad, '--csv', CSV, ...g]);
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/bad\.yaml:23:11: error \[E_CONFIG_INVALID\] strategy\.parameters\.k_sl: /);
    const grid = await baton([
      'backtest',
      'sweep',
      '--manifest',
      MANIFEST,
      '--csv',
      CSV,
      '--grid',
      'or_n',
      ...g,
    ]);
    expect(grid.stderr).toMatch(/--grid 'or_n': write param=v1,v2/);
    const value = await baton([
      'backtest',
      'sweep',
      '--manifest',
      MANIFEST,
      '--csv',
      CSV,
      '--grid',
      'k_sl=0.6,-1',
      ...g,
    ]);
    expect(value.code).toBe(1);
    expect(value.stderr).toMatch(/strategy parameter k_sl = -1: Too small/);
    const set = await baton([
      'backtest',
      'run',
      '--manifest',
      MANIFEST,
      '--csv',
      CSV,
      '--set',
      'k_tp=high',
      ...g,
    ]);
    expect(set.stderr).toMatch(/--set k_tp=high: 'high' is not a number/);
    const mode = await baton([
      'backtest',
      'run',
      '--manifest',
      MANIFEST,
      '--csv',
      CSV,
      '--mode',
      'fast',
      ...g,
    ]);
    expect(mode.stderr).toMatch(/Allowed choices are conservative, bridge/);
    const csv = await baton([
      'backtest',
      'run',
      '--manifest',
      MANIFEST,
      '--csv',
      join(dir, 'none.csv'),
      ...g,
    ]);
    expect(csv.code).toBe(1);
    expect(csv.stderr).toMatch(/E_NOT_FOUND.*none\.csv: no such file/);
    const notSweep = await baton(['backtest', 'report', 'no-such-id', ...g]);
    expect(notSweep.code).toBe(1);
    expect(notSweep.stderr).toMatch(/E_NOT_FOUND/);
  });
});
