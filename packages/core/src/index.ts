export { BatonError, NonRetryableError, isBatonError, type BatonErrorCode } from './errors.js';
export { type Json, toJsonText } from './json.js';
export { type Duration, toMs } from './duration.js';
export { newId } from './ids.js';
export { nearest } from './suggest.js';
export { textProblem, toStorableText } from './text.js';
export { checkStorable, checkText } from './check.js';
export { createLogger, type Logger } from './logger.js';
export { Store, type StoreOptions } from './store.js';
export {
  ArtifactStore,
  type Artifact,
  type ArtifactContentRead,
  type ArtifactProblem,
  type ArtifactReader,
  type ArtifactRole,
  type ArtifactWriter,
  type Seal,
  type VerifyReport,
} from './artifacts/ledger.js';
export { type ArtifactData, digestOf, sortedJson } from './artifacts/content.js';
export type { RunComparison, RunManifest, ManifestEntry } from './artifacts/manifest.js';
export type { CodeVersion } from './artifacts/code-version.js';
export type { SigningKey, Signature, SealAlgorithm } from './artifacts/seal.js';
export type { CollectOptions, CollectReport } from './artifacts/collect.js';
export { migrate, migrateComponent, loadMigrations, schemaVersion, type Migration } from './migrate.js';
export type { Driver, Queryable } from './driver/types.js';
export { parseDatabaseUrl, isConnectionError } from './driver/postgres.js';
export {
  defineJob,
  isJobDefinition,
  retryDelayMs,
  type JobDefinition,
  type JobOptions,
  type JobContext,
  type JobHandler,
  type RetryOptions,
  type InputSchema,
} from './job.js';
export {
  Client,
  type EnqueueOptions,
  type EnqueueItem,
  type Enqueued,
  type ListFilter,
  type QueueSettings,
  type StartOptions,
  type RetryFilter,
} from './client.js';
export { Worker, type WorkerOptions, type Servable } from './worker/worker.js';
export {
  WorkerMetrics,
  registerQueueDepth,
  DURATION_BUCKETS,
  type AttemptOutcomeLabel,
} from './telemetry/metrics.js';
export {
  executionPolicy,
  allowedPath,
  childEnvironment,
  canDenyNetwork,
  runUnderPolicy,
  DEFAULT_ENV_ALLOW,
  type ExecutionPolicy,
  type PolicyRun,
} from './policy/execution-policy.js';
export {
  PermissionPolicy,
  parsePermissionRule,
  parseToolCall,
  pathGlob,
  type PermissionDecision,
  type PermissionRuleLists,
  type PermissionVerdict,
  type ToolCallSubject,
} from './policy/permission-rules.js';
export {
  profileExecution,
  profilePercentiles,
  type ExecutionProfile,
  type OperationTiming,
  type ProfileFigures,
} from './profile.js';
export {
  defineWorkflow,
  isWorkflowDefinition,
  type WorkflowDefinition,
  type WorkflowOptions,
  type WorkflowContext,
  type StepContext,
  type StepOptions,
  type ChildOptions,
  type ExecutionHandle,
  type WorkflowLogger,
} from './workflow/definition.js';
export { StepFailedError, ChildFailedError } from './workflow/runner.js';
export type { HistoryEntry, HistoryKind, HistoryStatus, PastRun } from './workflow/history.js';
export {
  defineSchedule,
  isScheduleDefinition,
  type ScheduleDefinition,
  type ScheduleOptions,
  type MissedPolicy,
} from './schedule.js';
export type {
  Execution,
  ExecutionSummary,
  ExecutionStatus,
  ExecutionKind,
  StoredError,
} from './execution.js';
export {
  queueStates,
  executionCounts,
  workerStates,
  scheduleStates,
  RECENT_WINDOW_MS,
  type QueueState,
  type RecentQueueStats,
  type Percentiles,
  type WorkerState,
  type ScheduleState,
} from './inspect.js';
export { errorGroups, type ErrorGroup, type ErrorGroupFilter } from './error-groups.js';
export { EXECUTION_STATUSES, EXECUTION_KINDS } from './execution.js';
export {
  ChangeFeed,
  CHANGES_CHANNEL,
  parseChanges,
  type ChangeFeedOptions,
  type ExecutionChange,
  type FeedTrigger,
} from './change-feed.js';
// For components that wake their workflows in a statement of their own (the Architect).
export { signalSql, type SignalSqlParts } from './sql/signal.js';
