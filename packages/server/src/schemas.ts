// The API's shapes, as zod schemas that also make the OpenAPI document.
import { z } from '@hono/zod-openapi';
import {
  EXECUTION_KINDS,
  EXECUTION_STATUSES,
  textProblem,
  type Execution,
  type ExecutionSummary,
  type HistoryEntry,
} from '@baton/core';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'E_NOT_FOUND' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi('Error');

/**
 * A query parameter holding a comma-separated list: of `values` when given (each checked), else of
 * names. Empty means absent.
 */
export function commaList<const V extends string>(
  values: readonly V[] | undefined,
  what: string,
  example: string,
) {
  return z
    .string()
    .optional()
    .openapi({ description: `comma-separated ${what}`, example })
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      const list = s.split(',').filter((x) => x !== '');
      for (const x of list)
        if (values ? !(values as readonly string[]).includes(x) : x.length > 200) {
          ctx.addIssue({
            code: 'custom',
            message: values
              ? `'${x}' is not one of ${values.join(', ')}`
              : `'${x.slice(0, 40)}…' is too long`,
          });
          return z.NEVER;
        }
      return list.length ? (list as V[]) : undefined;
    });
}

/**
 * Text of `min` to `max` characters that PostgreSQL can store (no NUL, no lone surrogate): for values
 * a route hands to a service that writes or looks them up as text without checking them itself.
 */
export function storableText(min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .superRefine((s, ctx) => {
      const problem = textProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

const json = z.unknown().openapi({ description: 'any JSON value' });

const StoredErrorSchema = z.object({
  message: z.string(),
  name: z.string().optional(),
  code: z.string().optional(),
  stack: z.string().optional(),
  attempt: z.number().optional(),
  at: z.string().optional(),
});

export const ExecutionSummarySchema = z
  .object({
    id: z.string(),
    kind: z.enum(EXECUTION_KINDS),
    name: z.string(),
    queue: z.string(),
    status: z.enum(EXECUTION_STATUSES),
    priority: z.number(),
    runAt: z.string(),
    attempts: z.number(),
    maxAttempts: z.number(),
    error: StoredErrorSchema.nullable(),
    parentId: z.string().nullable(),
    workerId: z.string().nullable(),
    cancelRequested: z.boolean(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    deadlineAt: z.string().nullable(),
    runNumber: z.number(),
  })
  .openapi('ExecutionSummary');
export type ExecutionSummaryJson = z.infer<typeof ExecutionSummarySchema>;

export const ExecutionSchema = ExecutionSummarySchema.extend({
  input: json,
  output: json,
  errors: z.array(StoredErrorSchema),
  progress: json,
  idempotencyKey: z.string().nullable(),
  concurrencyKey: z.string().nullable(),
  concurrencyLimit: z.number().nullable(),
}).openapi('Execution');
export type ExecutionJson = z.infer<typeof ExecutionSchema>;

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** An error without its stack trace (what a viewer is shown). */
function withoutStack<T>(error: T): T {
  if (error === null || typeof error !== 'object' || !('stack' in error)) return error;
  const { stack: _stack, ...rest } = error as Record<string, unknown>;
  return rest as T;
}

/**
 * An execution (or its summary) as the API sends it: times as ISO 8601 text. Stack traces only when
 * `stacks`: they name files and lines of the code, which a viewer's role does not cover.
 */
export function summaryJson(e: ExecutionSummary, stacks: boolean): ExecutionSummaryJson {
  return {
    ...e,
    error: stacks ? e.error : withoutStack(e.error),
    runAt: e.runAt.toISOString(),
    createdAt: e.createdAt.toISOString(),
    startedAt: iso(e.startedAt),
    finishedAt: iso(e.finishedAt),
    deadlineAt: iso(e.deadlineAt),
  };
}

export function executionJson(e: Execution, stacks: boolean): ExecutionJson {
  // summaryJson copies every field of `e`, payloads included; only the earlier errors need their stacks checked.
  return Object.assign(summaryJson(e, stacks), {
    errors: stacks ? e.errors : e.errors.map(withoutStack),
  }) as ExecutionJson;
}

export const HistoryEntrySchema = z
  .object({
    seq: z.number(),
    kind: z.string(),
    name: z.string(),
    status: z.string(),
    attempts: z.number(),
    input: json,
    output: json,
    error: z.unknown(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .openapi('HistoryEntry');

export function historyJson(h: HistoryEntry, stacks: boolean): z.infer<typeof HistoryEntrySchema> {
  return {
    seq: h.seq,
    kind: h.kind,
    name: h.name,
    status: h.status,
    attempts: h.attempts,
    input: h.input,
    output: h.output,
    error: stacks ? h.error : withoutStack(h.error),
    startedAt: h.startedAt.toISOString(),
    finishedAt: iso(h.finishedAt),
  };
}

export const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(1000)
    .openapi({ param: { name: 'id', in: 'path' }, example: '0193d1c2-7b1e-7c4a-9f00-3a5b2e1d9c8f' }),
});
