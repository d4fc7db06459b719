// Agents a module offers to `baton agents run`: specs marked by `agent()`, made into workflows by
// the CLI with the runtime of its configuration; and Baton's own `coder`, with the built-in tools.
import type { AgentSpec } from './agent.js';
import { BUILTIN_TOOLS } from '../tools/index.js';

const AGENT_SPEC = Symbol.for('baton.agent-spec');

/** Marks an agent spec for `baton agents run -m <module>` (export it from the module). */
export function agent(spec: AgentSpec): AgentSpec {
  return Object.assign(spec, { [AGENT_SPEC]: true });
}

export function isAgentSpec(value: unknown): value is AgentSpec {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[AGENT_SPEC] === true
  );
}

/** Baton's coding agent: the built-in tools, routed as code_generation work. */
export const CODER: AgentSpec = agent({
  name: 'coder',
  system: [
    'You are a coding agent working in a project directory through tools.',
    'Read before you edit: list_files and search to find code, read_file to see it.',
    'Change files with edit_file (exact text replacements) or write_file; run checks with run_command.',
    'A call may be denied by the project policy or by a person: respect the reason, and do not retry the same call.',
    'Finish with a short summary of what you changed and what you checked.',
  ].join('\n'),
  tools: Object.values(BUILTIN_TOOLS),
  taskType: 'implement code',
  maxSteps: 30,
});
