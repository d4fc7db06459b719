// What an agent tool is: a name, a description and an input schema for the model; how its calls
// meet the permission rules; whether re-running an interrupted call is safe; and what it does.
import type { ToolCallSubject } from '@baton/core';
import type { z } from 'zod';
import type { ToolSandbox } from './sandbox.js';

export interface ToolContext {
  sandbox: ToolSandbox;
  /** Fires when the call times out or the agent is cancelled. */
  signal: AbortSignal;
  /**
   * Whether the rules let the agent read a file (a path relative to the root): tools that read
   * files other than the one they were called on (search) skip those it may not. Default: all.
   */
  canRead?: (rel: string) => boolean;
  /**
   * Called with a file's path (relative to the root) before the tool changes it: the caller keeps
   * the file's content as it is, for undo. Absent: no checkpoints.
   */
  checkpoint?: (rel: string) => Promise<void>;
}

export interface AgentTool<I = unknown> {
  name: string;
  description: string;
  input: z.ZodType<I>;
  /**
   * Whether a call interrupted by a crash may simply run again. A call of a tool that is not
   * idempotent is reported to the model as interrupted instead, and the model decides.
   */
  idempotent: boolean;
  /**
   * What a call may change: `read` (nothing: plan mode allows it), `edit` (files of the project:
   * auto-accept-edits mode allows it). Absent: anything (a command, an MCP tool's own effects).
   */
  effect?: 'read' | 'edit';
  /** What the permission rules match for a call: its path, argv or text (nothing: by name only). */
  subject(input: I, sandbox: ToolSandbox): Omit<ToolCallSubject, 'tool'>;
  /**
   * Why a call the rules allow must still be asked about (its subject does not show all it does),
   * or null. run_command: a working directory other than the project root.
   */
  askAnyway?(input: I, sandbox: ToolSandbox): string | null;
  /** Runs the call; the text is what the model sees. Throws BatonError for a call that cannot be made. */
  run(input: I, ctx: ToolContext): Promise<string>;
}

/**
 * Defines a tool; its input type comes from the schema alone. The result is typed for a tool list
 * (an agent validates each call's input against the schema before it runs the tool).
 */
export function defineTool<I>(
  tool: Omit<AgentTool<I>, 'subject' | 'run' | 'askAnyway'> & {
    subject(input: NoInfer<I>, sandbox: ToolSandbox): Omit<ToolCallSubject, 'tool'>;
    askAnyway?(input: NoInfer<I>, sandbox: ToolSandbox): string | null;
    run(input: NoInfer<I>, ctx: ToolContext): Promise<string>;
  },
): AgentTool<never> {
  return tool as AgentTool<never>;
}
