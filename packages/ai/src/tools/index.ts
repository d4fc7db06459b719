import { runCommand } from './command.js';
import { editFile, listFilesTool, readFile, search, writeFile } from './files.js';
import type { AgentTool } from './tool.js';

export { defineTool, type AgentTool, type ToolContext } from './tool.js';
export { ToolSandbox, type SandboxOptions } from './sandbox.js';
export { unifiedDiff } from './diff.js';
export { readFile, listFilesTool, search, editFile, writeFile, runCommand };

/** The built-in tools, by name. */
export const BUILTIN_TOOLS: Readonly<Record<string, AgentTool<never>>> = Object.fromEntries(
  [readFile, listFilesTool, search, editFile, writeFile, runCommand].map((t) => [t.name, t]),
);
