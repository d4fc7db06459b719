// The `mcp_servers` kind (mcp_servers.yaml): the MCP servers whose tools agents may use, by name:
// a command run over stdio, or a Streamable HTTP URL.
import { z } from 'zod';

const stdio = z
  .strictObject({
    command: z.string().min(1).describe('Program to run (its stdio speaks MCP)'),
    args: z.array(z.string()).optional().describe('Its arguments'),
    env: z
      .record(z.string(), z.string())
      .optional()
      .describe('Variables it gets, beyond the few it inherits (PATH, HOME, …); ${VAR} for secrets'),
    cwd: z.string().min(1).optional().describe('Working directory'),
  })
  .describe('A server started as a child process, spoken to over stdio');

const http = z
  .strictObject({
    url: z.url().describe('Streamable HTTP endpoint'),
    headers: z.record(z.string(), z.string()).optional().describe('Request headers; ${VAR} for tokens'),
  })
  .describe('A server reached over Streamable HTTP');

/** Schema of `mcp_servers.yaml`: server name → stdio command or HTTP URL. Tools become `mcp:<name>:<tool>`. */
export const mcpServersSchema = z
  .record(z.string(), z.union([stdio, http]))
  .superRefine((servers, ctx) => {
    for (const name of Object.keys(servers))
      if (!/^[A-Za-z0-9_-]+$/.test(name))
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: `'${name}' is not a server name: use letters, digits, _ and - (it becomes part of tool names, mcp:${name.replace(/[^A-Za-z0-9_-]/g, '_')}:<tool>)`,
        });
  })
  .describe('MCP servers whose tools agents may use (mcp_servers.yaml)');

export type McpServersConfig = z.output<typeof mcpServersSchema>;
