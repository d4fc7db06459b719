// Loopback servers speaking providers' wire protocols (OpenAI chat completions, Anthropic
// messages), each with and without SSE, answering from a script: text, tool calls, an HTTP error
// (429 with Retry-After, 500, 400), a slow first byte, a disconnect mid-stream, or a body that is
// not JSON. They count the requests they receive. No live provider is ever called.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply =
  | { text: string; usage?: { input: number; output: number; cached?: number }; delayMs?: number }
  | { tool: ToolCallReply; usage?: { input: number; output: number } }
  | { tools: ToolCallReply[]; usage?: { input: number; output: number } }
  | { status: number; headers?: Record<string, string>; body?: string }
  | { hangMs: number }
  | { disconnectAfter: string }
  | { notJson: true };

export interface ToolCallReply {
  id: string;
  name: string;
  /** Arguments as an object, or as raw text (to send JSON that does not parse). */
  args: unknown;
  raw?: string;
}

export interface LoopbackServer {
  url: string;
  /** Bodies of the requests received, in order. */
  requests: Record<string, unknown>[];
  /** Replies given in turn; the last one repeats. */
  script: Reply[];
  close(): Promise<void>;
}

type Protocol = 'openai' | 'anthropic';

const sse = (res: ServerResponse, data: unknown, event?: string) =>
  res.write(
    `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`,
  );

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function openaiReply(res: ServerResponse, reply: Reply, model: string, stream: boolean): void {
  const usage = 'usage' in reply && reply.usage ? reply.usage : { input: 10, output: 5 };
  const u = {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    prompt_tokens_details: { cached_tokens: 'cached' in usage ? (usage.cached ?? 0) : 0 },
  };
  const base = { id: 'chatcmpl-1', created: 1_764_000_000, model };
  const calls = 'tool' in reply ? [reply.tool] : 'tools' in reply ? reply.tools : [];
  const toolCalls = calls.length
    ? calls.map((c, index) => ({
        index,
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.raw ?? JSON.stringify(c.args) },
      }))
    : undefined;
  const text = 'text' in reply ? reply.text : null;
  const finish = toolCalls ? 'tool_calls' : 'stop';
  if (!stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        ...base,
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: text, tool_calls: toolCalls },
            finish_reason: finish,
          },
        ],
        usage: u,
      }),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const chunk = (delta: unknown, finish_reason: string | null) =>
    sse(res, { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason }] });
  if (text !== null) for (const word of text.split(/(?<= )/)) chunk({ content: word }, null);
  if (toolCalls) chunk({ tool_calls: toolCalls }, null);
  chunk({}, finish);
  sse(res, { ...base, object: 'chat.completion.chunk', choices: [], usage: u });
  sse(res, '[DONE]');
  res.end();
}

function anthropicReply(res: ServerResponse, reply: Reply, model: string, stream: boolean): void {
  const usage = 'usage' in reply && reply.usage ? reply.usage : { input: 10, output: 5 };
  const cached = 'cached' in usage ? (usage.cached ?? 0) : 0;
  const content: { type: string; text?: string; id?: string; name?: string; input?: unknown }[] =
    'tool' in reply
      ? [{ type: 'tool_use', id: reply.tool.id, name: reply.tool.name, input: reply.tool.args }]
      : [{ type: 'text', text: 'text' in reply ? reply.text : '' }];
  const stop = 'tool' in reply ? 'tool_use' : 'end_turn';
  const u = {
    input_tokens: usage.input,
    output_tokens: usage.output,
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: 0,
  };
  if (!stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model,
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: u,
      }),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  sse(
    res,
    {
      type: 'message_start',
      message: {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...u, output_tokens: 1 },
      },
    },
    'message_start',
  );
  const block = content[0];
  if (block.type === 'text') {
    sse(
      res,
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      'content_block_start',
    );
    for (const word of (block.text ?? '').split(/(?<= )/))
      sse(
        res,
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: word } },
        'content_block_delta',
      );
  } else {
    sse(
      res,
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      },
      'content_block_start',
    );
    sse(
      res,
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
      },
      'content_block_delta',
    );
  }
  sse(res, { type: 'content_block_stop', index: 0 }, 'content_block_stop');
  sse(
    res,
    {
      type: 'message_delta',
      delta: { stop_reason: stop, stop_sequence: null },
      usage: { output_tokens: usage.output },
    },
    'message_delta',
  );
  sse(res, { type: 'message_stop' }, 'message_stop');
  res.end();
}

/** Starts a loopback server for `protocol`, answering from `script`. */
export async function startLlmServer(
  protocol: Protocol,
  script: Reply[] = [{ text: 'hello' }],
): Promise<LoopbackServer> {
  const requests: Record<string, unknown>[] = [];
  const state: LoopbackServer = { url: '', requests, script, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const b = await body(req);
      requests.push(b);
      const reply = state.script[Math.min(requests.length - 1, state.script.length - 1)];
      const stream = b.stream === true;
      const model = String(b.model ?? 'model');
      if ('status' in reply) {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(
          reply.body ?? JSON.stringify({ error: { message: `scripted ${reply.status}`, type: 'scripted' } }),
        );
        return;
      }
      if ('hangMs' in reply) {
        await new Promise((r) => setTimeout(r, reply.hangMs));
        if (!res.destroyed) res.destroy();
        return;
      }
      if ('notJson' in reply) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>Bad gateway</html>');
        return;
      }
      if ('disconnectAfter' in reply) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (protocol === 'openai')
          sse(res, {
            id: 'c',
            object: 'chat.completion.chunk',
            created: 1,
            model,
            choices: [{ index: 0, delta: { content: reply.disconnectAfter }, finish_reason: null }],
          });
        else {
          sse(
            res,
            {
              type: 'message_start',
              message: {
                id: 'm',
                type: 'message',
                role: 'assistant',
                model,
                content: [],
                stop_reason: null,
                stop_sequence: null,
                usage: { input_tokens: 1, output_tokens: 1 },
              },
            },
            'message_start',
          );
          sse(
            res,
            { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
            'content_block_start',
          );
          sse(
            res,
            {
              type: 'content_block_delta',
              index: 0,
              delta: { type: 'text_delta', text: reply.disconnectAfter },
            },
            'content_block_delta',
          );
        }
        setTimeout(() => res.destroy(), 20);
        return;
      }
      if ('delayMs' in reply && reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (protocol === 'openai') openaiReply(res, reply, model, stream);
      else anthropicReply(res, reply, model, stream);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  state.url = protocol === 'openai' ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
