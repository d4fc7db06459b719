// How the built-in tools' calls meet the permission rules (@baton/core's PermissionPolicy): file
// tools are matched by their path, run_command by its argv, other tools (MCP) by name only.
import { parseToolCall, type ToolCallSubject } from '@baton/core';

/** Built-in tools whose calls are matched by the path they touch. */
export const PATH_TOOLS: ReadonlySet<string> = new Set([
  'read_file',
  'list_files',
  'search',
  'edit_file',
  'write_file',
]);
/** Built-in tools whose calls are matched by their argv. */
export const ARGV_TOOLS: ReadonlySet<string> = new Set(['run_command']);

/** A call as `baton policy check` takes it: `run_command(npm test)`, `read_file(src/a.ts)`, `mcp:x:y`. */
export function toolCallFromText(text: string): ToolCallSubject {
  return parseToolCall(text, PATH_TOOLS, ARGV_TOOLS);
}
