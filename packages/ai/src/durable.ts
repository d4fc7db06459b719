// LLM calls as durable operations of a workflow, through AI SDK middleware: each model call is a
// step of the workflow. The first time, the step calls the model and records its result (text,
// tool calls, usage, provider, finish reason) in the history; on replay the step returns the
// record and no request reaches any provider. Streams record their parts before the `finish` part
// reaches the caller; a crash mid-stream repeats the call on recovery (at least once, decision
// 0025), and a recorded call is never repeated.
import type {
  LanguageModelV3CallOptions,
  LanguageModelV3GenerateResult,
  LanguageModelV3Middleware,
  LanguageModelV3StreamPart,
} from '@ai-sdk/provider';
import { BatonError, type WorkflowContext } from '@baton/core';
import { simulateReadableStream } from 'ai';
import type { CallSite } from './failover-model.js';

/** A part of a live stream, as published for followers (server SSE, the TUI). */
export interface StreamEvent {
  executionId: string;
  step: string;
  part: LanguageModelV3StreamPart;
}

// Results hold Dates, bytes and errors; the history holds JSON.
function toJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
      const raw = this[key];
      if (raw instanceof Date) return { $date: raw.toISOString() };
      if (raw instanceof Uint8Array) return { $bytes: Buffer.from(raw).toString('base64') };
      if (raw instanceof Error) return { $error: raw.message, name: raw.name };
      return v;
    }),
  );
}

function fromJson<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$date === 'string') return new Date(o.$date);
      if (typeof o.$bytes === 'string') return new Uint8Array(Buffer.from(o.$bytes, 'base64'));
      if (typeof o.$error === 'string') return Object.assign(new Error(o.$error), { name: o.name });
    }
    return v;
  }) as T;
}

/** What a generate step records: the result without the raw request and response bodies. */
function recordOf(r: LanguageModelV3GenerateResult): unknown {
  return toJson({
    content: r.content,
    finishReason: r.finishReason,
    usage: r.usage,
    providerMetadata: r.providerMetadata,
    response: r.response && {
      id: r.response.id,
      modelId: r.response.modelId,
      timestamp: r.response.timestamp,
    },
    warnings: r.warnings,
  });
}

const withSite = (params: LanguageModelV3CallOptions, site: CallSite): LanguageModelV3CallOptions => ({
  ...params,
  providerOptions: { ...params.providerOptions, baton: site as never },
});

export interface DurableOptions {
  taskType?: string;
  publish?: (e: StreamEvent) => void;
  /**
   * A person's cancel (Ctrl+C in `baton chat`). A call it stops, or one made after it, fails its
   * step with E_CANCELLED, recorded: a replay fails at the same call, so the run goes on as it did.
   * (The SDK never sees this signal: it would skip calls, and a replay without it would make them.)
   */
  cancel?: AbortSignal;
}

/** The step's signal, and the person's cancel if there is one (already cancelled: E_CANCELLED now). */
function callSignal(step: AbortSignal, cancel: AbortSignal | undefined): AbortSignal {
  if (!cancel) return step;
  if (cancel.aborted) throw cancelledCall();
  return AbortSignal.any([step, cancel]);
}

const cancelledCall = () => new BatonError('E_CANCELLED', 'cancelled by the user');

/** A failure of a call the person cancelled is that cancel, whatever the transport made of it. */
async function cancellable<T>(cancel: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw cancel?.aborted ? cancelledCall() : err;
  }
}

/** The middleware that makes a model's calls steps of `ctx`. */
export function durableMiddleware(
  ctx: WorkflowContext,
  options: DurableOptions = {},
): LanguageModelV3Middleware {
  const { cancel } = options;
  return {
    specificationVersion: 'v3',
    async wrapGenerate({ params, model }) {
      const recorded = await ctx.step('ai.generate', (s) =>
        cancellable(cancel, async () =>
          recordOf(
            await model.doGenerate(
              withSite(
                { ...params, abortSignal: callSignal(s.signal, cancel) },
                { executionId: ctx.id, step: s.idempotencyKey, taskType: options.taskType },
              ),
            ),
          ),
        ),
      );
      return fromJson<LanguageModelV3GenerateResult>(recorded);
    },
    async wrapStream({ params, model }) {
      let controller: ReadableStreamDefaultController<LanguageModelV3StreamPart> | undefined;
      let ran = false;
      // A consumer that stops reading must not fail the step: parts for it are dropped from then on.
      let cancelled = false;
      const live = {
        enqueue: (p: LanguageModelV3StreamPart) => void (cancelled || controller?.enqueue(p)),
        close: () => void (cancelled || controller?.close()),
        error: (e: unknown) => void (cancelled || controller?.error(e)),
      };
      const out = new ReadableStream<LanguageModelV3StreamPart>({
        start: (c) => void (controller = c),
        cancel: () => void (cancelled = true),
      });
      let held: LanguageModelV3StreamPart | undefined;
      const recorded = ctx.step('ai.stream', (s) =>
        cancellable(cancel, async () => {
          ran = true;
          const site = { executionId: ctx.id, step: s.idempotencyKey, taskType: options.taskType };
          const { stream } = await model.doStream(
            withSite({ ...params, abortSignal: callSignal(s.signal, cancel) }, site),
          );
          const parts: LanguageModelV3StreamPart[] = [];
          const reader = stream.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            // A provider that ignores the signal mid-stream is stopped here.
            if (cancel?.aborted) {
              await reader.cancel().catch(() => undefined);
              throw cancelledCall();
            }
            parts.push(value);
            options.publish?.({ executionId: ctx.id, step: site.step, part: value });
            // The finish part waits for the record: a caller that saw `finish` can rely on it.
            if (value.type === 'finish') held = value;
            else live.enqueue(value);
          }
          return toJson(parts);
        }),
      );
      recorded.then(
        (parts) => {
          if (ran) {
            if (held) live.enqueue(held);
            live.close();
            return;
          }
          // Replay: the recorded parts, at once.
          const replay = simulateReadableStream({
            chunks: fromJson<LanguageModelV3StreamPart[]>(parts),
            initialDelayInMs: null,
            chunkDelayInMs: null,
          }).getReader();
          void (async () => {
            for (;;) {
              const { done, value } = await replay.read();
              if (done) return live.close();
              live.enqueue(value);
            }
          })();
        },
        (err: unknown) => live.error(err),
      );
      return { stream: out };
    },
  };
}
