// Tracing through @opentelemetry/api: spans for enqueues, job attempts, workflow runs and steps, and
// the trace context carried in each execution's row so that one trace covers a workflow across
// processes. With no OpenTelemetry SDK registered every call here is the API's no-op.
import {
  context,
  propagation,
  trace,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

export { SpanKind };

const TRACER_NAME = '@baton/core';

/**
 * The trace context of `ctx` as the registered propagator writes it (W3C `traceparent` and
 * `tracestate` with the SDK's default), as JSON text for the execution's row; null when there is
 * nothing to carry (no SDK, or no trace).
 */
export function traceCarrier(ctx: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  for (const _ in carrier) return JSON.stringify(carrier);
  return null;
}

/** The context a stored carrier describes (the root context when there is none, or it is unreadable). */
export function contextFrom(carrier: string | null | undefined): Context {
  if (!carrier) return ROOT_CONTEXT;
  try {
    const fields = JSON.parse(carrier) as unknown;
    if (typeof fields !== 'object' || fields === null) return ROOT_CONTEXT;
    return propagation.extract(ROOT_CONTEXT, fields as Record<string, string>);
  } catch {
    return ROOT_CONTEXT;
  }
}

/** Starts a span of Baton's tracer under `parent`. */
export function startSpan(name: string, kind: SpanKind, attributes: Attributes, parent: Context): Span {
  return trace.getTracer(TRACER_NAME).startSpan(name, { kind, attributes }, parent);
}

/** Runs `fn` with `span` active under `parent`, so spans and trace contexts made inside descend from it. */
export function withSpan<T>(span: Span, parent: Context, fn: () => T): T {
  return context.with(trace.setSpan(parent, span), fn);
}

/** Ends a span, as an error when `error` is given. */
export function endSpan(span: Span, error?: unknown, attributes?: Attributes): void {
  if (attributes) span.setAttributes(attributes);
  if (error !== undefined) {
    if (error instanceof Error) span.recordException(error);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end();
}

/** The active context (for code that starts spans under whatever the caller runs in). */
export function activeContext(): Context {
  return context.active();
}

/** The carrier of `span` as a child of `parent`: what an execution started inside it stores. */
export function spanCarrier(span: Span, parent: Context): string | null {
  return traceCarrier(trace.setSpan(parent, span));
}

/**
 * Runs `fn` inside a PRODUCER span `name` (an enqueue, a start), handing it the trace context to
 * store in the rows it inserts.
 */
export async function producing<T>(
  name: string,
  attributes: Attributes,
  fn: (traceContext: string | null) => Promise<T>,
): Promise<T> {
  const parent = context.active();
  const span = startSpan(name, SpanKind.PRODUCER, attributes, parent);
  try {
    const out = await fn(spanCarrier(span, parent));
    span.end();
    return out;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

/** What an attempt span is made from: a claimed execution's row. */
export interface AttemptRow {
  id: string;
  name: string;
  queue: string;
  attempts: number;
  run: number;
  trace_context: string | null;
}

/**
 * The span of a job's attempt or a workflow's run, in the trace the execution was enqueued or
 * started in (a no-op without an OpenTelemetry SDK), and the context it descends from.
 */
export function attemptSpan(kind: 'job' | 'workflow', row: AttemptRow): { span: Span; parent: Context } {
  const parent = contextFrom(row.trace_context);
  const attributes: Attributes = {
    'baton.execution.id': row.id,
    [`baton.${kind}`]: row.name,
    'baton.queue': row.queue,
    'baton.attempt': row.attempts,
  };
  if (kind === 'workflow') attributes['baton.run'] = row.run;
  return { span: startSpan(`${kind} ${row.name}`, SpanKind.CONSUMER, attributes, parent), parent };
}
