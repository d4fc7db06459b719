// Paths of the source project's acceptance data, and a runner over them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  loadManifest,
  parseBars,
  runBacktest,
  runSettings,
  type FillMode,
  type RunOptions,
} from '../src/index.js';

const shared = (name: string) =>
  fileURLToPath(new URL(`../../../examples/backtest/invest4/${name}`, import.meta.url));

export const MANIFEST = shared('day_orb_5m.yaml');
export const SAMPLE_CSV = shared('sample_orb.csv');
export const SAMPLE_RECORDS = shared('runner_sample_records.csv');

export function sampleSettings(
  mode: FillMode = 'conservative',
  overrides?: Record<string, number | boolean>,
) {
  return runSettings(loadManifest(MANIFEST).value, { mode, overrides });
}

export function runSample(
  mode: FillMode = 'conservative',
  options: RunOptions = {},
  csv = readFileSync(SAMPLE_CSV, 'utf8'),
) {
  const settings = sampleSettings(mode);
  const { bars, report } = parseBars(csv, { symbol: settings.symbol, timeframe: settings.timeframe });
  return { result: runBacktest(bars, settings, options), report, settings, bars };
}
