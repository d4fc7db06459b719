// The engine's state: queues (executions by status, limits, recent throughput and latency; an
// operator may set the limits), failures grouped by error,
// workers (heartbeat age, liveness, what they run) and cron schedules (next and last fire).
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import {
  Client,
  RECENT_WINDOW_MS,
  errorGroups,
  queueStates,
  scheduleStates,
  workerStates,
  type Store,
} from '@baton/core';
import type { ServerEnv } from '../auth.js';
import { apiRoute, jsonBody, jsonReply } from '../route.js';

/** The window of a queue's recent figures, in words. */
const WINDOW = `the last ${RECENT_WINDOW_MS / 60_000} minutes`;

const Percentiles = z
  .object({ p50: z.number(), p95: z.number(), p99: z.number() })
  .openapi('Percentiles', { description: 'Milliseconds' });

const QueueSchema = z
  .object({
    name: z.string(),
    ready: z.number(),
    scheduled: z.number(),
    running: z.number(),
    waiting: z.number(),
    concurrencyLimit: z.number().nullable(),
    rateLimit: z.object({ limit: z.number(), intervalMs: z.number() }).nullable(),
    recent: z
      .object({
        windowMs: z.number().openapi({ description: `The window: ${WINDOW} (${RECENT_WINDOW_MS})` }),
        completed: z.number().openapi({ description: 'Executions completed in the window' }),
        failed: z.number().openapi({ description: 'Executions failed (for good) in the window' }),
        throughputPerSecond: z.number().openapi({ description: '(completed + failed) / window seconds' }),
        latencyMs: Percentiles.nullable().openapi({
          description:
            'Creation to finish of the executions counted: what a caller waits, delays, retries and workflow waits included; null when none finished',
        }),
        runMs: Percentiles.nullable().openapi({
          description:
            "Last claim to finish: the final attempt's run time (a workflow's last resumption); null when none finished",
        }),
      })
      .openapi({
        description: `What the queue finished in ${WINDOW} (cancelled executions are not counted); percentiles are values some execution took (percentile_disc)`,
      }),
  })
  .openapi('Queue');

const WorkerSchema = z
  .object({
    id: z.string(),
    hostname: z.string(),
    pid: z.number(),
    queues: z.array(z.string()),
    names: z.array(z.string()),
    startedAt: z.string(),
    heartbeatAt: z.string(),
    heartbeatAgeMs: z.number(),
    leaseMs: z.number(),
    live: z.boolean(),
    running: z.number(),
  })
  .openapi('Worker');

const ScheduleSchema = z
  .object({
    name: z.string(),
    cron: z.string(),
    timezone: z.string().nullable(),
    job: z.string(),
    queue: z.string(),
    input: z.unknown(),
    missed: z.enum(['skip', 'latest', 'catch-up']),
    nextFireAt: z.string(),
    lastFireAt: z.string().nullable(),
  })
  .openapi('Schedule');

const schedules = apiRoute('viewer', {
  method: 'get',
  path: '/api/schedules',
  summary: 'Cron schedules: the job each starts, its next and last fire',
  responses: {
    200: jsonReply(z.object({ items: z.array(ScheduleSchema) }), 'Every schedule a worker registered'),
  },
});

const queues = apiRoute('viewer', {
  method: 'get',
  path: '/api/queues',
  summary: `Queues: executions ready, scheduled, running and waiting; limits; throughput and latency percentiles over ${WINDOW}`,
  responses: { 200: jsonReply(z.object({ items: z.array(QueueSchema) }), 'Every queue with work or limits') },
});

const configure = apiRoute('operator', {
  method: 'put',
  path: '/api/queues/{name}/limits',
  summary: "Set a queue's global limits (null removes one; an absent field keeps it)",
  request: {
    params: z.object({
      name: z
        .string()
        .min(1)
        .max(200)
        .openapi({ param: { name: 'name', in: 'path' } }),
    }),
    body: jsonBody(
      z
        .object({
          concurrency: z.number().int().min(1).nullable().optional(),
          rateLimit: z
            .object({ limit: z.number().int().min(1), intervalMs: z.number().int().min(1) })
            .strict()
            .nullable()
            .optional(),
        })
        .strict(),
    ),
  },
  responses: { 200: jsonReply(QueueSchema, 'The queue with its new limits') },
});

const ErrorGroupSchema = z
  .object({
    code: z.string().nullable().openapi({ description: "The error's code, else its class name" }),
    message: z.string().nullable().openapi({ description: 'Its message, cut at 1,000 characters' }),
    count: z.number(),
    lastSeenAt: z.string(),
    names: z.array(z.string()).openapi({ description: 'Names that failed this way (at most 10)' }),
    exampleId: z.string().openapi({ description: "The newest failure's id" }),
  })
  .openapi('ErrorGroup');

const errors = apiRoute('viewer', {
  method: 'get',
  path: '/api/errors',
  summary: 'Failed executions grouped by error code and message, the largest group first',
  request: {
    query: z.object({
      since: z.iso
        .datetime({ offset: true })
        .optional()
        .openapi({ description: 'only failures that finished at or after this moment (ISO 8601)' }),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: {
    200: jsonReply(
      z.object({ items: z.array(ErrorGroupSchema) }),
      'Every group, counted over all failures in the store',
    ),
  },
});

const workers = apiRoute('viewer', {
  method: 'get',
  path: '/api/workers',
  summary: 'Workers: heartbeat age, whether their lease holds, executions running',
  responses: { 200: jsonReply(z.object({ items: z.array(WorkerSchema) }), 'Every registered worker') },
});

export function engineRoutes(app: OpenAPIHono<ServerEnv>, store: Store, client: Client): void {
  app.openapi(queues, async (c) => c.json({ items: await queueStates(store.driver) }, 200));

  app.openapi(configure, async (c) => {
    const { name } = c.req.valid('param');
    const b = c.req.valid('json');
    await client.configureQueue(name, {
      concurrency: b.concurrency,
      rateLimit:
        b.rateLimit === undefined
          ? undefined
          : b.rateLimit && { limit: b.rateLimit.limit, interval: b.rateLimit.intervalMs },
    });
    const q = (await queueStates(store.driver)).find((s) => s.name === name)!;
    return c.json(q, 200);
  });

  app.openapi(errors, async (c) => {
    const { since, limit } = c.req.valid('query');
    const groups = await errorGroups(store.driver, { since: since ? new Date(since) : undefined, limit });
    return c.json({ items: groups.map((g) => ({ ...g, lastSeenAt: g.lastSeenAt.toISOString() })) }, 200);
  });

  app.openapi(schedules, async (c) =>
    c.json(
      {
        items: (await scheduleStates(store.driver)).map((s) => ({
          ...s,
          nextFireAt: s.nextFireAt.toISOString(),
          lastFireAt: s.lastFireAt?.toISOString() ?? null,
        })),
      },
      200,
    ),
  );

  app.openapi(workers, async (c) =>
    c.json(
      {
        items: (await workerStates(store.driver)).map((w) => ({
          ...w,
          startedAt: w.startedAt.toISOString(),
          heartbeatAt: w.heartbeatAt.toISOString(),
        })),
      },
      200,
    ),
  );
}
