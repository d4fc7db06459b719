// MCP servers (mcp_servers: in the configuration) over stdio or Streamable HTTP. Their tools become
// agent tools named `mcp:<server>:<tool>`, under the same permission rules, approvals and audit as
// the built-in ones. A stdio server gets the sandbox's scrubbed environment plus what its entry sets.
import { BatonError, childEnvironment, executionPolicy } from '@baton/core';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { z } from 'zod';
import { defineTool, type AgentTool } from './tools/tool.js';

/** One entry of `mcp_servers:`. */
export type McpServerSettings =
  | { command: string; args?: string[]; env?: Record<string, string>; cwd?: string }
  | { url: string; headers?: Record<string, string> };

export interface McpOptions {
  /** Variables a stdio server inherits from this process (names or `PREFIX*`); default core's short list. */
  envAllow?: string[];
  /** How long a server has to start and list its tools. Default 20 s. */
  startTimeoutMs?: number;
  /** How long one tool call may take. Default 60 s. */
  callTimeoutMs?: number;
  /** The working directory of stdio servers whose entry sets none (the project root). */
  cwd?: string;
}

interface McpContent {
  type: string;
  text?: string;
  mimeType?: string;
  resource?: { uri?: string; text?: string };
}

/** The text a model sees of a tool result: text parts as they are, other parts named. */
function resultText(content: McpContent[]): string {
  return content
    .map((c) =>
      c.type === 'text'
        ? (c.text ?? '')
        : c.type === 'resource'
          ? (c.resource?.text ?? `[resource ${c.resource?.uri ?? ''}]`)
          : `[${c.type}${c.mimeType ? ` ${c.mimeType}` : ''}]`,
    )
    .join('\n');
}

/** A tool's JSON Schema as zod, so the model gets it and arguments are checked before the call. */
function inputSchema(schema: unknown): z.ZodType<Record<string, unknown>> {
  try {
    return z.fromJSONSchema(schema as never) as z.ZodType<Record<string, unknown>>;
  } catch {
    return z.record(z.string(), z.unknown());
  }
}

/** One connected server. */
class McpConnection {
  private constructor(
    readonly name: string,
    private readonly client: Client,
    private readonly stderr: () => string,
  ) {}

  static async open(name: string, settings: McpServerSettings, options: McpOptions): Promise<McpConnection> {
    // The SDK (and its JSON Schema validator) loads with the first server: ~0.15 s off every
    // process that connects none.
    const [{ Client }, { StdioClientTransport }, { StreamableHTTPClientTransport }] = await Promise.all([
      import('@modelcontextprotocol/sdk/client/index.js'),
      import('@modelcontextprotocol/sdk/client/stdio.js'),
      import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    ]);
    const client = new Client({ name: 'baton', version: '0.1.0' });
    let errText = '';
    let transport: StdioClientTransport | StreamableHTTPClientTransport;
    if ('command' in settings) {
      const policy = executionPolicy({ envAllow: options.envAllow });
      transport = new StdioClientTransport({
        command: settings.command,
        args: settings.args,
        env: childEnvironment(policy, settings.env),
        cwd: settings.cwd ?? options.cwd,
        stderr: 'pipe',
      });
      transport.stderr?.on('data', (d: Buffer) => (errText = (errText + d.toString()).slice(-2000)));
    } else {
      transport = new StreamableHTTPClientTransport(new URL(settings.url), {
        requestInit: { headers: settings.headers },
      });
    }
    try {
      await client.connect(transport, { timeout: options.startTimeoutMs ?? 20_000 });
    } catch (err) {
      await client.close().catch(() => undefined);
      const tail = errText.trim().split('\n').slice(-3).join(' | ');
      throw new BatonError(
        'E_CONFIG_INVALID',
        `MCP server '${name}' did not start: ${(err as Error).message}${tail ? ` (its stderr: ${tail})` : ''}; check mcp_servers.${name}`,
        { cause: err },
      );
    }
    return new McpConnection(name, client, () => errText);
  }

  async tools(options: McpOptions): Promise<AgentTool<never>[]> {
    const { tools } = await this.client.listTools(undefined, { timeout: options.startTimeoutMs ?? 20_000 });
    return tools.map((t) => {
      const name = `mcp:${this.name}:${t.name}`;
      return defineTool<Record<string, unknown>>({
        name,
        description: t.description ?? t.title ?? t.name,
        input: inputSchema(t.inputSchema),
        // A read-only or idempotent tool may run again after a crash; anything else is reported as interrupted.
        idempotent: t.annotations?.readOnlyHint === true || t.annotations?.idempotentHint === true,
        // A server's word that a tool only reads lets plan mode offer it.
        ...(t.annotations?.readOnlyHint === true ? { effect: 'read' as const } : {}),
        subject: () => ({}),
        run: async (args, { signal }) => {
          let result: { content?: unknown; isError?: boolean };
          try {
            result = (await this.client.callTool({ name: t.name, arguments: args }, undefined, {
              signal,
              timeout: options.callTimeoutMs ?? 60_000,
            })) as typeof result;
          } catch (err) {
            const tail = this.stderr().trim().split('\n').slice(-2).join(' | ');
            throw new BatonError(
              'E_TOOL_FAILED',
              `MCP server '${this.name}' failed during ${t.name}: ${(err as Error).message}${tail ? ` (its stderr: ${tail})` : ''}`,
              { cause: err },
            );
          }
          const text = resultText((result.content ?? []) as McpContent[]);
          if (result.isError) throw new BatonError('E_INPUT_INVALID', `${t.name} failed: ${text}`);
          return text;
        },
      });
    });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** The configured MCP servers, connected, and their tools. */
export class McpServers {
  private constructor(
    private readonly connections: McpConnection[],
    readonly tools: AgentTool<never>[],
  ) {}

  /** Starts and connects every server; one that does not start is an error naming it (the others are closed). */
  static async open(
    servers: Record<string, McpServerSettings> = {},
    options: McpOptions = {},
  ): Promise<McpServers> {
    const connections: McpConnection[] = [];
    try {
      const tools: AgentTool<never>[] = [];
      for (const [name, settings] of Object.entries(servers)) {
        const c = await McpConnection.open(name, settings, options);
        connections.push(c);
        tools.push(...(await c.tools(options)));
      }
      return new McpServers(connections, tools);
    } catch (err) {
      await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close().catch(() => undefined)));
  }
}
