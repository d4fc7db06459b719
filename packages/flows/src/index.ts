// @baton/flows: Baton's data-driven layer — layered YAML configuration, named queries, and the Architect's routing, SLA and tmux parts.
export { loadConfig, type LoadOptions } from './config/load.js';
export { Config } from './config/config.js';
export { ConfigWatcher, type ConfigChange, type WatchOptions } from './config/watch.js';
export { ConfigError, formatDiagnostic, formatLocation } from './config/diagnostics.js';
export { loadYamlDocument, type DocumentOptions, type LoadedDocument } from './config/document.js';
export { configJsonSchema } from './config/json-schema.js';
export type { ExplainEntry } from './config/provenance.js';
export type { ConfigDiagnostic, ConfigView, SourceLocation } from './config/types.js';
export { KIND_NAMES, isKindName, DEFAULT_UI_CONFIG, uiConfigWithDefaults } from './config/kinds/index.js';
export type * from './config/kinds/index.js';
export * from './queries/index.js';
export * from './architect/model.js';
export * from './architect/route.js';
export * from './architect/sla/index.js';
export * from './architect/tmux/index.js';
export { createArchitect, type Architect, type ArchitectOptions } from './architect/architect.js';
export { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './architect/control-plane.js';
export { rulesFromConfig, type ArchitectRules, type ArchitectContext } from './architect/context.js';
export { checkTaskSpec } from './architect/task-spec.js';
export type { TaskService, ListTasksFilter, Explained } from './architect/tasks.js';
export type {
  SessionRegistry,
  SessionLease,
  RegisterOptions,
  HeartbeatReport,
} from './architect/sessions.js';
export type { TaskView, SessionView, TaskHistoryEntry } from './architect/store/view.js';
export { TASK_STATUSES, type TaskStatus } from './architect/store/rows.js';
export { TASK_EVENTS, type TaskEvent } from './architect/store/events.js';
export type { SlaReport, SlaCheck, StoredAlert } from './architect/sla-monitor.js';
export { migrateArchitect } from './architect/store/schema.js';
export {
  runSession,
  type TaskExecutor,
  type ExecutorOutcome,
  type RunSessionOptions,
} from './architect/adapters/runner.js';
export { commandExecutor } from './architect/adapters/command.js';
export { tmuxExecutor } from './architect/adapters/tmux.js';
export {
  ARCHITECT_CHANGES_CHANNEL,
  ARCHITECT_FEED_TRIGGERS,
  parseArchitectChanges,
  type ArchitectChange,
} from './architect/change-feed.js';
export * from './workflows/index.js';
