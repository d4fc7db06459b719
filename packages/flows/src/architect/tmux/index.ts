// The tmux session adapter: interactive agent CLIs (Claude Code, Codex CLI, Aider, …) driven in tmux.
export { TmuxAgent, type TmuxAgentOptions, type WaitOptions, type AgentOutcome } from './adapter.js';
export {
  resolveAgentProfile,
  BUILTIN_AGENT_PROFILES,
  BUILTIN_PROVIDERS,
  GENERIC_AGENT_PROFILE,
  type AgentProfile,
  type ScreenPatterns,
} from './defaults.js';
export { classify, promptLineIndex, type ScreenState } from './screen.js';
export { answerText, type DeliveryMark } from './output.js';
export { Tmux, type TmuxOptions, type NewSessionOptions, type CaptureRange } from './tmux.js';
