// The Architect over HTTP (docs/architect.md): typed tasks (send, list, show, explain, and an
// operator's retry, reassign, cancel, pause and resume), agent sessions (list, show, drain), and the
// SLA report with its alerts, which an operator acknowledges. Everything goes through @baton/flows'
// services, so the API refuses what `baton tasks` refuses, with the same codes and messages.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { BatonError } from '@baton/core';
import { TASK_STATUSES, checkTaskSpec, type Architect } from '@baton/flows';
import type { ServerEnv } from '../auth.js';
import { callerName } from '../keys.js';
import { apiRoute, jsonBody, jsonReply } from '../route.js';
import { commaList, storableText } from '../schemas.js';

const TaskSchema = z
  .looseObject({
    id: z.string(),
    type: z.string(),
    prompt: z.string(),
    priority: z.number(),
    status: z.enum(TASK_STATUSES),
    assigned_session: z.string().nullable(),
    waiting_because: z.string().nullable(),
    created_at: z.string(),
    deadline_at: z.string().nullable(),
  })
  .openapi('Task', { description: 'A task as `baton tasks show --json` prints it' });

const SessionSchema = z
  .looseObject({
    name: z.string(),
    provider: z.string(),
    status: z.string(),
    capacity: z.number(),
    current_tasks: z.array(z.string()),
    last_heartbeat: z.string(),
  })
  .openapi('Session');

const AlertSchema = z
  .looseObject({
    id: z.number(),
    task_id: z.string(),
    severity: z.string(),
    message: z.string(),
    created_at: z.string(),
    acknowledged_at: z.string().nullable(),
    acknowledged_by: z.string().nullable(),
  })
  .openapi('Alert');

// The Architect's services look names up and store reasons as given: the schemas refuse what
// PostgreSQL cannot store.
const TaskId = z.object({ id: storableText(1, 200) });
const SessionName = z.object({ name: storableText(1, 200) });

const listTasks = apiRoute('viewer', {
  method: 'get',
  path: '/api/tasks',
  summary: 'Tasks, newest first, by status, type or session',
  request: {
    query: z.object({
      status: commaList(TASK_STATUSES, 'task statuses', 'pending,running'),
      type: storableText(1, 200).optional(),
      session: storableText(1, 200).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: { 200: jsonReply(z.object({ items: z.array(TaskSchema) }), 'The tasks') },
});

const sendTask = apiRoute('operator', {
  method: 'post',
  path: '/api/tasks',
  summary:
    'Send a task: `type`, `prompt`, and optionally priority, targets, providers, timeout, retries, metadata',
  request: { body: jsonBody(z.record(z.string(), z.unknown()).openapi('TaskSpec')) },
  responses: { 201: jsonReply(TaskSchema, 'The task, pending') },
});

const showTask = apiRoute('viewer', {
  method: 'get',
  path: '/api/tasks/{id}',
  summary: 'A task and its history, one entry per event with its reason',
  request: { params: TaskId },
  responses: { 200: jsonReply(TaskSchema, 'The task') },
});

const explainTask = apiRoute('viewer', {
  method: 'get',
  path: '/api/tasks/{id}/explain',
  summary: 'Why a task is where it is: the rule that applies and each session considered',
  request: { params: TaskId },
  responses: {
    200: jsonReply(
      z.object({ task: TaskSchema, decision: z.unknown(), text: z.string() }),
      'The explanation, as data and as `baton tasks explain` prints it',
    ),
  },
});

const TASK_ACTIONS = ['retry', 'reassign', 'cancel', 'pause', 'resume'] as const;
const actOnTask = apiRoute('operator', {
  method: 'post',
  path: '/api/tasks/{id}/{action}',
  summary: 'retry (a failed or cancelled task), reassign (`{to?}`), cancel (`{reason?}`), pause or resume',
  request: {
    params: TaskId.extend({ action: z.enum(TASK_ACTIONS) }),
    body: {
      required: false,
      content: {
        'application/json': {
          schema: z
            .object({ to: storableText(1, 200).optional(), reason: storableText(0, 1000).optional() })
            .strict(),
        },
      },
    },
  },
  responses: { 200: jsonReply(TaskSchema, 'The task after the action') },
});

const listSessions = apiRoute('viewer', {
  method: 'get',
  path: '/api/sessions',
  summary: 'Agent sessions: status, provider, capacity, current tasks, last heartbeat',
  responses: { 200: jsonReply(z.object({ items: z.array(SessionSchema) }), 'The sessions') },
});

const showSession = apiRoute('viewer', {
  method: 'get',
  path: '/api/sessions/{name}',
  summary: 'One agent session',
  request: { params: SessionName },
  responses: { 200: jsonReply(SessionSchema, 'The session') },
});

const drainSession = apiRoute('operator', {
  method: 'post',
  path: '/api/sessions/{name}/drain',
  summary: 'Give a session no new task; it finishes what it holds',
  request: { params: SessionName },
  responses: { 200: jsonReply(SessionSchema, 'The session, draining') },
});

const sla = apiRoute('viewer', {
  method: 'get',
  path: '/api/sla',
  summary: "Open tasks' SLA status (colour, percent used), compliance per type, queue depth, open alerts",
  responses: {
    200: jsonReply(
      z.looseObject({ now: z.string(), tasks: z.array(z.unknown()), open_alerts: z.array(AlertSchema) }),
      'The SLA report',
    ),
  },
});

const acknowledge = apiRoute('operator', {
  method: 'post',
  path: '/api/alerts/{id}/acknowledge',
  summary: 'Acknowledge an SLA alert; who and when are kept with it',
  request: { params: z.object({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) }) },
  responses: { 200: jsonReply(AlertSchema, 'The alert') },
});

function noArchitect(): BatonError {
  return new BatonError(
    'E_NOT_FOUND',
    'this server runs no Architect: start it with a configuration directory that has routing_rules.yaml (--config-dir; examples/architect/baton has the seed’s)',
  );
}

/** Who acknowledged: the key, the token's subject, or the local admin of a server without keys. */

/**
 * The services' views as replies. Their readonly interfaces are what the schemas above document,
 * but TypeScript will not match an interface to a schema with open keys; the services own the shape.
 */
const reply = (value: unknown) => value as never;

export function architectRoutes(app: OpenAPIHono<ServerEnv>, architect: Architect | undefined): void {
  const need = (): Architect => {
    if (!architect) throw noArchitect();
    return architect;
  };

  app.openapi(listTasks, async (c) => {
    const { limit, ...q } = c.req.valid('query');
    return c.json(reply({ items: await need().tasks.list({ ...q, limit }) }), 200);
  });
  app.openapi(sendTask, async (c) =>
    c.json(reply(await need().tasks.send(checkTaskSpec(c.req.valid('json')))), 201),
  );
  app.openapi(showTask, async (c) => c.json(reply(await need().tasks.show(c.req.valid('param').id)), 200));
  app.openapi(explainTask, async (c) =>
    c.json(reply(await need().tasks.explain(c.req.valid('param').id)), 200),
  );
  app.openapi(actOnTask, async (c) => {
    const { id, action } = c.req.valid('param');
    // The body is optional: read it only when one was sent.
    const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
    const tasks = need().tasks;
    const act: Record<(typeof TASK_ACTIONS)[number], () => Promise<unknown>> = {
      retry: () => tasks.retry(id),
      reassign: () => tasks.reassign(id, { to: body.to }),
      cancel: () => tasks.cancel(id, body.reason),
      pause: () => tasks.pause(id),
      resume: () => tasks.resume(id),
    };
    const done = await act[action]();
    return c.json(reply(done), 200);
  });

  app.openapi(listSessions, async (c) => c.json(reply({ items: await need().sessions.list() }), 200));
  app.openapi(showSession, async (c) =>
    c.json(reply(await need().sessions.show(c.req.valid('param').name)), 200),
  );
  app.openapi(drainSession, async (c) =>
    c.json(reply(await need().sessions.drain(c.req.valid('param').name)), 200),
  );

  app.openapi(sla, async (c) => c.json(reply(await need().slaReport()), 200));
  app.openapi(acknowledge, async (c) =>
    c.json(reply(await need().acknowledgeAlert(c.req.valid('param').id, callerName(c.get('caller')))), 200),
  );
}
