// Loopback servers speaking providers' wire protocols: OpenAI chat completions, OpenAI Responses and
// Anthropic messages (SSE), Gemini generateContent / streamGenerateContent (SSE), Ollama /api/chat (NDJSON).
// Each answers from a script: text (streamed at once, or a word every `frameDelayMs`), tool calls, an HTTP error (429 with Retry-After, 500, 400), a
// slow first byte, a disconnect mid-stream, or a body that is not JSON, and counts the requests it
// receives. No live provider is ever called.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Usage {
  input: number;
  output: number;
  cached?: number;
}

export type Reply =
  | { text: string; usage?: Usage; delayMs?: number; frameDelayMs?: number }
  | { tool: ToolCallReply; usage?: Usage }
  | { tools: ToolCallReply[]; usage?: Usage }
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
  /** Paths of the requests received, in order. */
  paths: string[];
  /** Replies given in turn; the last one repeats. */
  script: Reply[];
  /** Called as each frame of a streamed reply is written (a test that times what it shows). */
  onFrame?: (frame: string) => void;
  close(): Promise<void>;
}

export type Protocol = 'openai' | 'openai-responses' | 'anthropic' | 'gemini' | 'ollama';

/** What a model answer holds, whatever the protocol. */
interface Answer {
  text: string | null;
  calls: ToolCallReply[];
  usage: Usage;
}

/** A protocol: the whole reply, and the frames of the streamed one (the last ones carry the finish). */
interface Wire {
  whole(a: Answer, model: string): unknown;
  frames(a: Answer, model: string): string[];
  streamType: string;
}

const sse = (data: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
const words = (text: string | null) => (text ? text.split(/(?<= )/) : []);

const openai: Wire = {
  streamType: 'text/event-stream',
  whole(a, model) {
    return {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1_764_000_000,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: a.text, tool_calls: toolCalls(a) },
          finish_reason: a.calls.length ? 'tool_calls' : 'stop',
        },
      ],
      usage: openaiUsage(a.usage),
    };
  },
  frames(a, model) {
    const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1_764_000_000, model };
    const chunk = (delta: unknown, finish_reason: string | null) =>
      sse({ ...base, choices: [{ index: 0, delta, finish_reason }] });
    return [
      ...words(a.text).map((w) => chunk({ content: w }, null)),
      ...(a.calls.length ? [chunk({ tool_calls: toolCalls(a) }, null)] : []),
      chunk({}, a.calls.length ? 'tool_calls' : 'stop'),
      sse({ ...base, choices: [], usage: openaiUsage(a.usage) }),
      sse('[DONE]'),
    ];
  },
};
function toolCalls(a: Answer) {
  return a.calls.length
    ? a.calls.map((c, index) => ({
        index,
        id: c.id,
        type: 'function',
        function: { name: c.name, arguments: c.raw ?? JSON.stringify(c.args) },
      }))
    : undefined;
}
function openaiUsage(u: Usage) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached ?? 0 },
  };
}

const anthropic: Wire = {
  streamType: 'text/event-stream',
  whole(a, model) {
    return {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model,
      content: [
        ...(a.text !== null ? [{ type: 'text', text: a.text }] : []),
        ...a.calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.args })),
      ],
      stop_reason: a.calls.length ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: anthropicUsage(a.usage),
    };
  },
  frames(a, model) {
    const out = [
      sse(
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
            usage: { ...anthropicUsage(a.usage), output_tokens: 1 },
          },
        },
        'message_start',
      ),
    ];
    let index = 0;
    if (a.text !== null) {
      out.push(
        sse(
          { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
          'content_block_start',
        ),
      );
      for (const w of words(a.text))
        out.push(
          sse(
            { type: 'content_block_delta', index, delta: { type: 'text_delta', text: w } },
            'content_block_delta',
          ),
        );
      out.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
      index++;
    }
    for (const c of a.calls) {
      out.push(
        sse(
          {
            type: 'content_block_start',
            index,
            content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} },
          },
          'content_block_start',
        ),
      );
      out.push(
        sse(
          {
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: c.raw ?? JSON.stringify(c.args) },
          },
          'content_block_delta',
        ),
      );
      out.push(sse({ type: 'content_block_stop', index }, 'content_block_stop'));
      index++;
    }
    out.push(
      sse(
        {
          type: 'message_delta',
          delta: { stop_reason: a.calls.length ? 'tool_use' : 'end_turn', stop_sequence: null },
          usage: { output_tokens: a.usage.output },
        },
        'message_delta',
      ),
      sse({ type: 'message_stop' }, 'message_stop'),
    );
    return out;
  },
};
function anthropicUsage(u: Usage) {
  return {
    input_tokens: u.input - (u.cached ?? 0),
    output_tokens: u.output,
    cache_read_input_tokens: u.cached ?? 0,
    cache_creation_input_tokens: 0,
  };
}

const gemini: Wire = {
  streamType: 'text/event-stream',
  whole(a) {
    return geminiChunk(a.text, a.calls, 'STOP', a.usage);
  },
  frames(a) {
    const parts = words(a.text);
    const frames = parts.slice(0, -1).map((w) => sse(geminiChunk(w, [], null, null)));
    frames.push(sse(geminiChunk(parts.at(-1) ?? null, a.calls, 'STOP', a.usage)));
    return frames;
  },
};
function geminiChunk(
  text: string | null,
  calls: ToolCallReply[],
  finish: string | null,
  usage: Usage | null,
) {
  return {
    candidates: [
      {
        content: {
          role: 'model',
          parts: [
            ...(text !== null ? [{ text }] : []),
            ...calls.map((c) => ({ functionCall: { name: c.name, args: c.args } })),
          ],
        },
        ...(finish ? { finishReason: finish } : {}),
        index: 0,
      },
    ],
    ...(usage
      ? {
          usageMetadata: {
            promptTokenCount: usage.input,
            candidatesTokenCount: usage.output,
            totalTokenCount: usage.input + usage.output,
            cachedContentTokenCount: usage.cached ?? 0,
          },
        }
      : {}),
    modelVersion: 'gemini-test',
  };
}

const ollama: Wire = {
  streamType: 'application/x-ndjson',
  whole(a, model) {
    return ollamaChunk(model, a.text ?? '', a.calls, a.usage);
  },
  frames(a, model) {
    const line = (o: unknown) => `${JSON.stringify(o)}\n`;
    return [
      ...words(a.text).map((w) => line(ollamaChunk(model, w, [], null))),
      line(ollamaChunk(model, '', a.calls, a.usage)),
    ];
  },
};
function ollamaChunk(model: string, content: string, calls: ToolCallReply[], usage: Usage | null) {
  return {
    model,
    created_at: '2026-12-05T00:00:00Z',
    message: {
      role: 'assistant',
      content,
      ...(calls.length
        ? { tool_calls: calls.map((c) => ({ function: { name: c.name, arguments: c.args } })) }
        : {}),
    },
    done: usage !== null,
    ...(usage
      ? {
          done_reason: 'stop',
          prompt_eval_count: usage.input,
          eval_count: usage.output,
          total_duration: 1000,
        }
      : {}),
  };
}

const responses: Wire = {
  streamType: 'text/event-stream',
  whole(a, model) {
    return {
      id: 'resp_1',
      object: 'response',
      created_at: 1_764_000_000,
      model,
      status: 'completed',
      output: [
        ...(a.text !== null
          ? [
              {
                type: 'message',
                role: 'assistant',
                id: 'msg_1',
                status: 'completed',
                content: [{ type: 'output_text', text: a.text, annotations: [] }],
              },
            ]
          : []),
        ...a.calls.map((c, i) => responsesCall(c, i)),
      ],
      usage: responsesUsage(a.usage),
    };
  },
  frames(a, model) {
    const ev = (data: { type: string }) => sse(data, data.type);
    const out = [
      ev({ type: 'response.created', response: { id: 'resp_1', created_at: 1_764_000_000, model } } as {
        type: string;
      }),
    ];
    let index = 0;
    if (a.text !== null) {
      out.push(
        ev({
          type: 'response.output_item.added',
          output_index: index,
          item: { type: 'message', id: 'msg_1' },
        } as { type: string }),
      );
      for (const w of words(a.text))
        out.push(ev({ type: 'response.output_text.delta', item_id: 'msg_1', delta: w } as { type: string }));
      out.push(
        ev({
          type: 'response.output_item.done',
          output_index: index,
          item: { type: 'message', id: 'msg_1' },
        } as { type: string }),
      );
      index++;
    }
    for (const c of a.calls) {
      const item = responsesCall(c, index);
      out.push(
        ev({
          type: 'response.output_item.added',
          output_index: index,
          item: { ...item, arguments: '', status: undefined },
        } as { type: string }),
      );
      out.push(
        ev({
          type: 'response.function_call_arguments.delta',
          item_id: item.id,
          output_index: index,
          delta: item.arguments,
        } as { type: string }),
      );
      out.push(ev({ type: 'response.output_item.done', output_index: index, item } as { type: string }));
      index++;
    }
    out.push(
      ev({
        type: 'response.completed',
        response: { incomplete_details: null, usage: responsesUsage(a.usage) },
      } as { type: string }),
    );
    return out;
  },
};
function responsesCall(c: ToolCallReply, i: number) {
  return {
    type: 'function_call',
    id: `fc_${i}`,
    call_id: c.id,
    name: c.name,
    arguments: c.raw ?? JSON.stringify(c.args),
    status: 'completed',
  };
}
function responsesUsage(u: Usage) {
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached ?? 0 },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.input + u.output,
  };
}

const WIRES: Record<Protocol, Wire> = { openai, 'openai-responses': responses, anthropic, gemini, ollama };

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** Whether the request asked for a stream: a flag in the body, or Gemini's streaming method. */
const wantsStream = (protocol: Protocol, path: string, body: Record<string, unknown>) =>
  protocol === 'gemini' ? path.includes(':streamGenerateContent') : body.stream === true;

/** Starts a loopback server for `protocol`, answering from `script`. */
export async function startLlmServer(
  protocol: Protocol,
  script: Reply[] = [{ text: 'hello' }],
): Promise<LoopbackServer> {
  const wire = WIRES[protocol];
  const state: LoopbackServer = { url: '', requests: [], paths: [], script, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const b = await readBody(req);
      state.requests.push(b);
      state.paths.push(req.url ?? '');
      const reply = state.script[Math.min(state.requests.length - 1, state.script.length - 1)];
      const stream = wantsStream(protocol, req.url ?? '', b);
      const model = String(b.model ?? 'model');
      if ('status' in reply) {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(
          reply.body ??
            JSON.stringify({
              error: { message: `scripted ${reply.status}`, type: 'scripted', code: reply.status },
            }),
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
      if ('delayMs' in reply && reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      const answer: Answer =
        'disconnectAfter' in reply
          ? { text: reply.disconnectAfter, calls: [], usage: { input: 1, output: 1 } }
          : {
              text: 'text' in reply ? reply.text : null,
              calls: 'tool' in reply ? [reply.tool] : 'tools' in reply ? reply.tools : [],
              usage: ('usage' in reply && reply.usage) || { input: 10, output: 5 },
            };
      if (!stream && !('disconnectAfter' in reply)) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(wire.whole(answer, model)));
        return;
      }
      res.writeHead(200, { 'content-type': wire.streamType });
      const frames = wire.frames(answer, model);
      if ('disconnectAfter' in reply) {
        // The text's frames, then the connection drops before the finish.
        const text = words(reply.disconnectAfter).length;
        const start = protocol === 'anthropic' || protocol === 'openai-responses' ? 2 : 0;
        for (const f of frames.slice(0, start + text)) res.write(f);
        setTimeout(() => res.destroy(), 20);
        return;
      }
      const gap = 'frameDelayMs' in reply ? reply.frameDelayMs : undefined;
      for (const f of frames) {
        if (res.destroyed) return;
        res.write(f);
        state.onFrame?.(f);
        // A slow stream: each word on its own, `frameDelayMs` apart.
        if (gap) await new Promise((r) => setTimeout(r, gap));
      }
      res.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const root = `http://127.0.0.1:${port}`;
  state.url =
    protocol === 'openai' || protocol === 'openai-responses'
      ? `${root}/v1`
      : protocol === 'gemini'
        ? `${root}/v1beta`
        : root;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
