// Executions: list (filters, search, cursor paging), get, history, start by name, cancel, retry,
// signal, and bulk cancel and retry by ids or by filter. Everything goes through the engine's
// Client, so the API refuses what the library refuses, with the same codes and messages.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  BatonError,
  EXECUTION_KINDS,
  EXECUTION_STATUSES,
  isBatonError,
  type Client,
  type ExecutionStatus,
  type ListFilter,
} from '@baton/core';
import type { ServerEnv } from '../auth.js';
import type { Caller } from '../keys.js';
import { allows } from '../roles.js';
import { apiRoute, jsonBody, jsonReply } from '../route.js';
import {
  ExecutionSchema,
  ExecutionSummarySchema,
  HistoryEntrySchema,
  IdParam,
  commaList,
  executionJson,
  historyJson,
  summaryJson,
} from '../schemas.js';

/** Stack traces go to operators and admins: the people who act on failures. */
const seesStacks = (caller: Caller) => allows(caller.role, 'operator');

/** The most executions one list page or one bulk action covers. */
export const PAGE_MAX = 1000;

const statusList = commaList(EXECUTION_STATUSES, 'statuses', 'failed,cancelled');

const FilterFields = {
  kind: z.enum(EXECUTION_KINDS).optional(),
  name: z.string().min(1).max(1000).optional(),
  queue: z.string().min(1).max(200).optional(),
  q: z.string().min(1).max(1000).optional().openapi({ description: 'text the id or the name contains' }),
  parent: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .openapi({ description: "the parent's id: a workflow's activities and children" }),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'created at or after (ISO 8601)' }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'created before (ISO 8601)' }),
};

const ListQuery = z.object({
  ...FilterFields,
  status: statusList,
  cursor: z.string().min(1).max(1000).optional().openapi({ description: 'nextCursor of the previous page' }),
  limit: z.coerce.number().int().min(1).max(PAGE_MAX).default(50),
  view: z.enum(['full', 'summary']).default('full').openapi({
    description:
      'summary: each execution without its input, output, progress, earlier errors and keys (the last error stays)',
  }),
});

const BulkFilter = z
  .object({ ...FilterFields, status: z.array(z.enum(EXECUTION_STATUSES)).min(1).optional() })
  .strict();

const BulkBody = z
  .object({
    ids: z.array(z.string().min(1).max(1000)).min(1).max(PAGE_MAX).optional(),
    filter: BulkFilter.optional(),
  })
  .strict()
  .refine((b) => (b.ids === undefined) !== (b.filter === undefined), {
    message: 'give either ids or filter, not both and not neither',
  })
  .openapi('BulkSelection');

const BulkResult = z
  .object({
    done: z.array(z.string()),
    failed: z.array(z.object({ id: z.string(), code: z.string(), message: z.string() })),
    /** The filter matched more than one call covers: call again for the rest. */
    more: z.boolean(),
  })
  .openapi('BulkResult');

const StartBody = z
  .object({
    kind: z.enum(['job', 'workflow']),
    name: z.string().min(1).max(200),
    input: z.unknown().optional(),
    id: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .openapi({ description: "a workflow's id (default: a new one)" }),
    idempotencyKey: z.string().min(1).max(500).optional().openapi({ description: "a job's idempotency key" }),
    queue: z.string().min(1).max(200).optional(),
    priority: z.number().int().optional(),
    delayMs: z.number().int().min(0).optional(),
  })
  .strict()
  .openapi('StartRequest');

const SignalParams = IdParam.extend({
  name: z
    .string()
    .min(1)
    .max(200)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'approved' }),
});
const SignalBody = z
  .object({ payload: z.unknown().optional(), idempotencyKey: z.string().min(1).max(500).optional() })
  .strict()
  .openapi('SignalRequest');

const dateOf = (s: string | undefined) => (s === undefined ? undefined : new Date(s));

function listFilter(f: z.infer<typeof BulkFilter>): ListFilter {
  return {
    kind: f.kind,
    name: f.name,
    queue: f.queue,
    status: f.status,
    search: f.q,
    parentId: f.parent,
    createdAfter: dateOf(f.since),
    createdBefore: dateOf(f.until),
  };
}

const list = apiRoute('viewer', {
  method: 'get',
  path: '/api/executions',
  summary: 'List executions, newest first',
  request: { query: ListQuery },
  responses: {
    200: jsonReply(
      z.object({
        items: z.array(z.union([ExecutionSchema, ExecutionSummarySchema])),
        nextCursor: z.string().nullable(),
      }),
      'A page of executions (summaries with view=summary); nextCursor is null on the last page',
    ),
  },
});

const get = apiRoute('viewer', {
  method: 'get',
  path: '/api/executions/{id}',
  summary: 'One execution',
  request: { params: IdParam },
  responses: { 200: jsonReply(ExecutionSchema, 'The execution') },
});

const history = apiRoute('viewer', {
  method: 'get',
  path: '/api/executions/{id}/history',
  summary: 'An execution with its workflow history (every durable operation of its run)',
  request: { params: IdParam },
  responses: {
    200: jsonReply(
      z.object({
        execution: ExecutionSchema,
        history: z.array(HistoryEntrySchema),
        previousRuns: z.array(z.unknown()),
      }),
      'The execution and its history',
    ),
  },
});

const start = apiRoute('operator', {
  method: 'post',
  path: '/api/executions',
  summary: 'Enqueue a job or start a workflow, by its registered name',
  request: { body: jsonBody(StartBody) },
  responses: {
    201: jsonReply(
      z.object({ id: z.string(), created: z.boolean() }),
      'Started (created: false when the id or idempotency key was already used)',
    ),
  },
});

const cancel = apiRoute('operator', {
  method: 'post',
  path: '/api/executions/{id}/cancel',
  summary: 'Cancel an execution and its descendants',
  request: { params: IdParam },
  responses: {
    200: jsonReply(z.object({ status: z.enum(['cancelled', 'cancelling']) }), 'Cancelled, or asked to stop'),
  },
});

const retry = apiRoute('operator', {
  method: 'post',
  path: '/api/executions/{id}/retry',
  summary: 'Put a failed or cancelled execution back in its queue',
  request: { params: IdParam },
  responses: { 200: jsonReply(z.object({ status: z.literal('queued') }), 'Queued again') },
});

const signal = apiRoute('operator', {
  method: 'post',
  path: '/api/executions/{id}/signals/{name}',
  summary: 'Send a signal to a workflow',
  request: { params: SignalParams, body: jsonBody(SignalBody) },
  responses: { 202: jsonReply(z.object({ sent: z.literal(true) }), 'Delivered to the workflow') },
});

const bulkCancel = apiRoute('operator', {
  method: 'post',
  path: '/api/executions/bulk/cancel',
  summary: `Cancel executions by ids or by filter (at most ${PAGE_MAX} per call)`,
  request: { body: jsonBody(BulkBody) },
  responses: { 200: jsonReply(BulkResult, 'What was cancelled and what could not be') },
});

const bulkRetry = apiRoute('operator', {
  method: 'post',
  path: '/api/executions/bulk/retry',
  summary: `Retry failed or cancelled executions by ids or by filter (at most ${PAGE_MAX} per call)`,
  request: { body: jsonBody(BulkBody) },
  responses: { 200: jsonReply(BulkResult, 'What was queued again and what could not be') },
});

/** One page of executions, and whether more match after it (looked up only for a full page). */
async function pageOf<T extends { id: string }>(
  list: (filter: ListFilter) => Promise<T[]>,
  filter: ListFilter,
  limit: number,
): Promise<{ items: T[]; more: boolean }> {
  // One query: a row past the page says another page follows (the engine's largest page, which
  // cannot take one more row, asks with a second query).
  if (limit < PAGE_MAX) {
    const rows = await list({ ...filter, limit: limit + 1 });
    return { items: rows.slice(0, limit), more: rows.length > limit };
  }
  const items = await list({ ...filter, limit });
  const more =
    items.length === limit && (await list({ ...filter, before: items.at(-1)!.id, limit: 1 })).length > 0;
  return { items, more };
}

/** Runs `action` on each selected execution; a failure on one is reported, not thrown. */
async function bulk(
  client: Client,
  body: z.infer<typeof BulkBody>,
  eligible: readonly ExecutionStatus[],
  action: (id: string) => Promise<unknown>,
): Promise<z.infer<typeof BulkResult>> {
  let ids = body.ids;
  let more = false;
  if (body.filter) {
    const f = listFilter(body.filter);
    // Only executions the action can apply to: a filter that also matches finished ones would
    // otherwise fill the page with refusals.
    const statuses = f.status ? [f.status].flat().filter((s) => eligible.includes(s)) : [...eligible];
    if (statuses.length > 0) {
      const page = await pageOf((l) => client.listSummaries(l), { ...f, status: statuses }, PAGE_MAX);
      more = page.more;
      ids = page.items.map((e) => e.id);
    } else ids = [];
  }
  const done: string[] = [];
  const failed: { id: string; code: string; message: string }[] = [];
  for (const id of ids ?? []) {
    try {
      await action(id);
      done.push(id);
    } catch (err) {
      if (!isBatonError(err)) throw err;
      failed.push({ id, code: err.code, message: err.message });
    }
  }
  return { done, failed, more };
}

export function executionRoutes(app: OpenAPIHono<ServerEnv>, client: Client): void {
  // Before the /{id}/… routes: the first route that matches answers, and `bulk` would match {id}.
  app.openapi(bulkCancel, async (c) =>
    c.json(
      await bulk(client, c.req.valid('json'), ['queued', 'running', 'waiting'], (id) => client.cancel(id)),
      200,
    ),
  );

  app.openapi(bulkRetry, async (c) =>
    c.json(await bulk(client, c.req.valid('json'), ['failed', 'cancelled'], (id) => client.retry(id)), 200),
  );

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    const filter = { ...listFilter(q), before: q.cursor };
    const stacks = seesStacks(c.get('caller'));
    const page =
      q.view === 'summary'
        ? await pageOf((l) => client.listSummaries(l), filter, q.limit).then((p) => ({
            ...p,
            items: p.items.map((e) => summaryJson(e, stacks)),
          }))
        : await pageOf((l) => client.list(l), filter, q.limit).then((p) => ({
            ...p,
            items: p.items.map((e) => executionJson(e, stacks)),
          }));
    return c.json({ items: page.items, nextCursor: page.more ? page.items.at(-1)!.id : null }, 200);
  });

  app.openapi(get, async (c) =>
    c.json(executionJson(await client.get(c.req.valid('param').id), seesStacks(c.get('caller'))), 200),
  );

  app.openapi(history, async (c) => {
    const { history: entries, previousRuns, ...execution } = await client.describe(c.req.valid('param').id);
    const stacks = seesStacks(c.get('caller'));
    return c.json(
      {
        execution: executionJson(execution, stacks),
        history: entries.map((h) => historyJson(h, stacks)),
        previousRuns,
      },
      200,
    );
  });

  app.openapi(start, async (c) => {
    const b = c.req.valid('json');
    const input = b.input ?? null;
    const common = { queue: b.queue, priority: b.priority, delay: b.delayMs };
    if (b.kind === 'job') {
      if (b.id !== undefined)
        throw new BatonError('E_INPUT_INVALID', 'a job takes no id; give idempotencyKey to enqueue it once');
      return c.json(
        await client.enqueue(b.name, input, { ...common, idempotencyKey: b.idempotencyKey }),
        201,
      );
    }
    if (b.idempotencyKey !== undefined)
      throw new BatonError(
        'E_INPUT_INVALID',
        'a workflow takes no idempotencyKey; its id is its key (give id)',
      );
    return c.json(await client.start(b.name, input, { ...common, id: b.id }), 201);
  });

  app.openapi(cancel, async (c) => c.json(await client.cancel(c.req.valid('param').id), 200));

  app.openapi(retry, async (c) => {
    await client.retry(c.req.valid('param').id);
    return c.json({ status: 'queued' as const }, 200);
  });

  app.openapi(signal, async (c) => {
    const { id, name } = c.req.valid('param');
    const b = c.req.valid('json');
    await client.signal(id, name, b.payload ?? null, { idempotencyKey: b.idempotencyKey });
    return c.json({ sent: true as const }, 202);
  });
}
