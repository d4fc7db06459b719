// The AI layer over HTTP (docs/ai.md): LLM usage and the providers' circuit breakers, the approval
// requests agents wait on (an operator approves or denies them; who is kept), the audit log of tool
// calls, and an agent's or workflow's LLM stream parts as server-sent events while they arrive.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { BatonError, toMs, type Store } from '@baton/core';
import {
  ApprovalStore,
  AuditLog,
  BreakerStore,
  STREAM_CHANNEL,
  USAGE_GROUPS,
  UsageLedger,
  aiTablesExist,
  type Remember,
} from '@baton/ai';
import type { ServerEnv } from '../auth.js';
import { callerName } from '../keys.js';
import { apiRoute, jsonBody, jsonReply } from '../route.js';
import { storableText } from '../schemas.js';

const Duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 30m, 24h or 7d')
  .openapi({ example: '7d' });

const UsageLine = z
  .looseObject({
    key: z.string().nullable(),
    requests: z.number(),
    failed: z.number(),
    cost: z.number(),
    unpriced: z.number(),
  })
  .openapi('UsageLine');
const Approval = z
  .looseObject({
    id: z.string(),
    executionId: z.string(),
    tool: z.string(),
    arguments: z.unknown(),
    rule: z.string().nullable(),
    status: z.string(),
  })
  .openapi('Approval', { description: 'A tool call an agent waits on; arguments with secrets masked' });
const AuditEntry = z
  .looseObject({
    at: z.number(),
    executionId: z.string(),
    tool: z.string(),
    decision: z.string(),
    rule: z.string().nullable(),
    decidedBy: z.string().nullable(),
  })
  .openapi('AuditEntry');

const usage = apiRoute('viewer', {
  method: 'get',
  path: '/api/ai/usage',
  summary: 'LLM requests, failures, tokens and USD from the usage ledger, grouped',
  request: {
    query: z.object({ by: z.enum(USAGE_GROUPS).default('provider'), since: Duration.default('7d') }),
  },
  responses: {
    200: jsonReply(z.object({ by: z.string(), since: z.string(), lines: z.array(UsageLine) }), 'The usage'),
  },
});
const breakers = apiRoute('viewer', {
  method: 'get',
  path: '/api/ai/breakers',
  summary: "The LLM providers' circuit breakers (closed, open until a time, half-open)",
  responses: {
    200: jsonReply(
      z.object({ items: z.array(z.looseObject({ provider: z.string(), phase: z.string() })) }),
      'The breakers',
    ),
  },
});
const listApprovals = apiRoute('viewer', {
  method: 'get',
  path: '/api/approvals',
  summary: 'Approval requests of agent tool calls, newest first (pending by default)',
  request: {
    query: z.object({
      status: z.enum(['pending', 'approved', 'denied', 'expired', 'all']).default('pending'),
    }),
  },
  responses: { 200: jsonReply(z.object({ items: z.array(Approval) }), 'The requests') },
});
const ApprovalId = z.object({ id: storableText(1, 200) });
const approve = apiRoute('operator', {
  method: 'post',
  path: '/api/approvals/{id}/approve',
  summary: 'Allow the call an agent waits on: once, for the rest of its run (session), or always',
  request: {
    params: ApprovalId,
    body: jsonBody(
      z.object({
        remember: z.enum(['once', 'session', 'always']).default('once'),
        reason: storableText(0, 2000).optional(),
      }),
    ),
  },
  responses: { 200: jsonReply(Approval, 'The request, approved') },
});
const deny = apiRoute('operator', {
  method: 'post',
  path: '/api/approvals/{id}/deny',
  summary: 'Refuse the call an agent waits on; the agent is told the reason',
  request: { params: ApprovalId, body: jsonBody(z.object({ reason: storableText(0, 2000).optional() })) },
  responses: { 200: jsonReply(Approval, 'The request, denied') },
});
const audit = apiRoute('viewer', {
  method: 'get',
  path: '/api/audit',
  summary:
    'Permission decisions on agent tool calls: tool, arguments (secrets masked), rule, decision, who, when',
  request: {
    query: z.object({
      execution: storableText(1, 200).optional(),
      since: Duration.default('7d'),
      limit: z.coerce.number().int().min(1).max(10_000).default(1000),
    }),
  },
  responses: { 200: jsonReply(z.object({ items: z.array(AuditEntry) }), 'The decisions, oldest first') },
});
const aiStream = apiRoute('viewer', {
  method: 'get',
  path: '/api/executions/{id}/ai-stream',
  summary:
    "An execution's LLM stream parts as they arrive (server-sent events): text deltas, tool calls, finish",
  description:
    "Each `part` event is `{executionId, step, part: {type, delta? | toolName? | finishReason?}}`. Parts are not stored: a client sees those published while it is connected (the recorded result is in the execution's history).",
  request: { params: z.object({ id: z.string().min(1).max(200) }) },
  responses: {
    200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
  },
});

export function aiRoutes(app: OpenAPIHono<ServerEnv>, store: Store): void {
  const approvals = new ApprovalStore(store.driver);
  app.openapi(usage, async (c) => {
    const { by, since } = c.req.valid('query');
    const from = Date.now() - toMs(since, 'since');
    const lines = (await aiTablesExist(store.driver))
      ? await new UsageLedger(store.driver).report(by, from)
      : [];
    return c.json({ by, since: new Date(from).toISOString(), lines }, 200);
  });
  app.openapi(breakers, async (c) =>
    c.json(
      { items: (await aiTablesExist(store.driver)) ? await new BreakerStore(store.driver).list() : [] },
      200,
    ),
  );
  app.openapi(listApprovals, async (c) =>
    c.json(
      { items: (await aiTablesExist(store.driver)) ? await approvals.list(c.req.valid('query').status) : [] },
      200,
    ),
  );
  const decide =
    (approved: boolean) => async (id: string, body: { remember?: Remember; reason?: string }, by: string) => {
      if (!(await aiTablesExist(store.driver)))
        throw new BatonError('E_NOT_FOUND', `no approval request '${id}': no agent has asked for one here`);
      return approvals.decide(store, id, {
        approved,
        by,
        reason: body.reason ?? null,
        remember: body.remember ?? 'once',
      });
    };
  app.openapi(approve, async (c) =>
    c.json(
      await decide(true)(c.req.valid('param').id, c.req.valid('json'), callerName(c.get('caller'))),
      200,
    ),
  );
  app.openapi(deny, async (c) =>
    c.json(
      await decide(false)(c.req.valid('param').id, c.req.valid('json'), callerName(c.get('caller'))),
      200,
    ),
  );
  app.openapi(audit, async (c) => {
    const q = c.req.valid('query');
    const since = q.execution ? 0 : Date.now() - toMs(q.since, 'since');
    const items = (await aiTablesExist(store.driver))
      ? await new AuditLog(store.driver).list({ executionId: q.execution, since, limit: q.limit })
      : [];
    return c.json({ items }, 200);
  });
  app.openapi(aiStream, (c) => {
    const { id } = c.req.valid('param');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      const closed = new Promise<void>((resolve) => stream.onAbort(resolve));
      const unlisten = await store.driver.listen(STREAM_CHANNEL, (payload) => {
        const event = JSON.parse(payload) as { executionId: string };
        if (event.executionId === id) void stream.writeSSE({ event: 'part', data: payload });
      });
      try {
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ executionId: id }) });
        await closed;
      } finally {
        await unlisten();
      }
    });
  });
}
