// @baton/flows: Baton's data-driven layer — layered YAML configuration, named queries, and the Architect's routing, SLA and tmux parts.
export { loadConfig, type LoadOptions } from './config/load.js';
export { Config } from './config/config.js';
export { ConfigWatcher, type ConfigChange, type WatchOptions } from './config/watch.js';
export { ConfigError, formatDiagnostic, formatLocation } from './config/diagnostics.js';
export { configJsonSchema } from './config/json-schema.js';
export type { ExplainEntry } from './config/provenance.js';
export type { ConfigDiagnostic, ConfigView, SourceLocation } from './config/types.js';
export { KIND_NAMES, isKindName } from './config/kinds/index.js';
export type * from './config/kinds/index.js';
export * from './queries/index.js';
export * from './architect/model.js';
export * from './architect/route.js';
export * from './architect/sla/index.js';
export * from './architect/tmux/index.js';
