export * from './config.js';
export * from './breaker.js';
export { BreakerStore, type BreakerView } from './breaker-store.js';
export { BudgetGuard, logAlerts, type AlertSink, type BudgetAlert } from './budget.js';
export { classifyFailure, retryAfterMs, type Failure, type FailureClass } from './failure.js';
export { FailoverModel, type CallReport, type CallSite, type ProviderAttempt } from './failover-model.js';
export { buildModel } from './models.js';
export { callCost, contextWindow, unitPrices, type Cost, type CostSource } from './prices.js';
export { resolveRoute, useCaseForTask, type Route, type RouteRequest } from './routing.js';
export { AI_MIGRATIONS, aiTablesExist, migrateAi } from './schema.js';
export { UsageLedger, USAGE_GROUPS, type CallRecord, type UsageGroup, type UsageLine } from './usage.js';
export { durableMiddleware, type StreamEvent } from './durable.js';
export {
  Ai,
  DurableAi,
  STREAM_CHANNEL,
  type AiOptions,
  type GenerateRequest,
  type StreamRequest,
} from './runtime.js';
export { ARGV_TOOLS, PATH_TOOLS, toolCallFromText } from './permissions.js';
export * from './tools/index.js';
export {
  defineAgent,
  type AgentInput,
  type AgentResult,
  type AgentRuntime,
  type AgentSpec,
  type TurnLive,
  type TurnPart,
} from './agents/agent.js';
export { TOOL_MODES, type ToolMode } from './agents/modes.js';
export {
  ApprovalStore,
  approvalSignal,
  type Approval,
  type ApprovalAnswer,
  type ApprovalStatus,
  type Remember,
} from './agents/approvals.js';
export { AuditLog, type AuditEntry } from './agents/audit.js';
export { AlwaysRules, exactRule } from './agents/always.js';
export { maskSecrets } from './agents/mask.js';
export { CODER, agent, isAgentSpec } from './agents/specs.js';
export { McpServers, type McpOptions, type McpServerSettings } from './mcp.js';
export * from './context/index.js';
export {
  CHAT_MESSAGE,
  LEDGER_EVENT,
  STATE_EVENT,
  checkMessage,
  defineChatSession,
  turnEvent,
  type ChatInput,
  type ChatMessage,
  type ChatSessionOptions,
  type ChatLive,
  type TurnEvent,
} from './chat/session.js';
export { addPins, compactionArtifact, pinnedFrom, withLedger } from './chat/compaction.js';
export {
  Checkpoints,
  DEFAULT_CHECKPOINT_QUOTA_BYTES,
  type CheckpointSite,
  type Undone,
} from './chat/checkpoints.js';
export { MEMORY_FILES, projectMemory, withProjectMemory, type MemoryFile } from './chat/memory.js';
