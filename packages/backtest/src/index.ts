// @baton/backtest: the Day ORB 5m backtest runner of seed 000 on @baton/ta, run as durable jobs
// whose outputs are ledger artifacts (docs/backtest.md).
export * from './config.js';
export {
  parseBars,
  parseTimestamp,
  formatMicros,
  type Bars,
  type LoadReport,
  type LoadOptions,
} from './bars.js';
export {
  loadManifest,
  runSettings,
  manifestSchema,
  type Manifest,
  type LoadedManifest,
  type RunChoice,
} from './manifest.js';
export { runBacktest, type RunOptions } from './runner.js';
export {
  headline,
  type HeadlineMetrics,
  type RunResult,
  type TradeRecord,
  type DailyRow,
  type Counters,
} from './results.js';
export { sharpe, maxDrawdown, equitySequence, metricsFromRecords, type RecordMetrics } from './metrics.js';
export {
  bridgeProbability,
  enterOnBar,
  Position,
  type Exit,
  type ExitReason,
  type FillRules,
} from './fills.js';
export { wilsonLower, EvEstimators, bucketIndex, BUCKET_KEYS, type BucketIndex } from './ev.js';
export { configFingerprint, pyFloat } from './fingerprint.js';
export type { RunState } from './state.js';
export { metricsJson, recordsCsv, dailyCsv, paramsJson } from './outputs.js';
export * from './jobs.js';
