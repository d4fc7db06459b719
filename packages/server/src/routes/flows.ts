// YAML workflows over HTTP: the list, a dry run (plan), starting a run (operators), answering an approval, and the
// `api` triggers of workflows.yaml (`trigger: { type: api, endpoint: /api/features, method: POST }`),
// each a route of its own that starts a run with the request's JSON body as its input. Every
// endpoint is under /api/, so it needs a key as every other route does (the configuration refuses
// one elsewhere).
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { BatonError, Client } from '@baton/core';
import type { Config, Flows } from '@baton/flows';
import type { ServerEnv } from '../auth.js';
import { apiRoute, jsonReply } from '../route.js';
import { callerName } from '../keys.js';

const FlowInfo = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    trigger: z.record(z.string(), z.unknown()).nullable(),
    /** The input spec: field name to its type and constraints. */
    input: z.record(z.string(), z.unknown()).nullable(),
    steps: z.array(z.object({ id: z.string(), type: z.string() })),
  })
  .openapi('YamlWorkflow');

const Started = z.object({ id: z.string(), workflow: z.string(), version: z.string() }).openapi('FlowRun');

const Plan = z
  .object({
    version: z.string(),
    steps: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        depth: z.number().int(),
        runs: z.enum(['yes', 'no', 'maybe']),
        because: z.string().optional(),
        values: z.record(z.string(), z.unknown()),
      }),
    ),
  })
  .openapi('FlowPlan');

const optionalJson = {
  required: false,
  content: { 'application/json': { schema: z.record(z.string(), z.unknown()).openapi('FlowInput') } },
};

const list = apiRoute('viewer', {
  method: 'get',
  path: '/api/flows',
  summary: 'The YAML workflows of workflows.yaml: name, description, trigger, input spec, steps',
  responses: { 200: jsonReply(z.object({ items: z.array(FlowInfo) }), 'Every workflow') },
});

const start = apiRoute('operator', {
  method: 'post',
  path: '/api/flows/{name}/runs',
  summary: "Start a run; the body is its input, checked against the workflow's input spec",
  request: { params: z.object({ name: z.string().min(1).max(200) }), body: optionalJson },
  responses: { 201: jsonReply(Started, 'The run, started') },
});

const plan = apiRoute('viewer', {
  method: 'post',
  path: '/api/flows/{name}/plan',
  summary:
    'A dry run: the steps a run with this input would take, and their templates rendered as far as they are known',
  request: { params: z.object({ name: z.string().min(1).max(200) }), body: optionalJson },
  responses: { 200: jsonReply(Plan, 'The plan; nothing ran') },
});

const approve = apiRoute('operator', {
  method: 'post',
  path: '/api/flows/runs/{id}/approvals/{step}',
  summary: 'Answer the approval a run waits for at a step; the approver is the caller',
  request: {
    params: z.object({ id: z.string().min(1).max(500), step: z.string().min(1).max(500) }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({ approved: z.boolean(), reason: z.string().max(1000).optional() }).strict(),
        },
      },
    },
  },
  responses: { 200: jsonReply(z.object({ sent: z.literal(true) }), 'The answer was sent to the run') },
});

function noFlows(): BatonError {
  return new BatonError(
    'E_NOT_FOUND',
    'this server runs without YAML workflows: start it with --config-dir holding a workflows.yaml',
  );
}

/** The JSON body of a request, `{}` when it has none. */
async function bodyOf(c: { req: { text(): Promise<string> } }): Promise<unknown> {
  const text = await c.req.text();
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BatonError('E_INPUT_INVALID', 'the request body is not JSON');
  }
}

export function flowRoutes(
  app: OpenAPIHono<ServerEnv>,
  flows: Flows | undefined,
  config: (() => Config) | undefined,
  client: Client,
): void {
  app.openapi(list, (c) => {
    if (!flows || !config) throw noFlows();
    const items = Object.entries(config().value.workflows?.workflows ?? {}).map(([name, w]) => ({
      name,
      description: w.description ?? null,
      trigger: (w.trigger as Record<string, unknown> | undefined) ?? null,
      input: (w.input as Record<string, unknown> | undefined) ?? null,
      steps: w.steps.map((s) => ({ id: s.id, type: s.type })),
    }));
    return c.json({ items }, 200);
  });

  app.openapi(start, async (c) => {
    if (!flows) throw noFlows();
    const name = c.req.valid('param').name;
    const { id, version } = await flows.start(name, await bodyOf(c));
    return c.json({ id, workflow: name, version }, 201);
  });

  app.openapi(plan, async (c) => {
    if (!flows) throw noFlows();
    return c.json(flows.plan(c.req.valid('param').name, await bodyOf(c)), 200);
  });

  app.openapi(approve, async (c) => {
    if (!flows) throw noFlows();
    const { id, step } = c.req.valid('param');
    const { approved, reason } = c.req.valid('json');
    // The approver is who called: a JWT's subject as is (so `approvers: [ada]` matches sub ada).
    const caller = c.get('caller');
    const by = caller.subject ?? callerName(caller);
    await client.signal(id, `approve:${step}`, { approved, by, ...(reason ? { reason } : {}) });
    return c.json({ sent: true as const }, 200);
  });

  // The api triggers of the configuration the server started with (a reload that adds one needs a restart).
  if (!flows || !config) return;
  for (const [name, w] of Object.entries(config().value.workflows?.workflows ?? {})) {
    const t = w.trigger;
    if (t?.type !== 'api' || t.endpoint === undefined) continue;
    const route = apiRoute('operator', {
      method: (t.method ?? 'POST').toLowerCase() as 'post',
      path: t.endpoint,
      summary: `Start a run of the YAML workflow '${name}' (its api trigger); the body is its input`,
      request: { body: optionalJson },
      responses: { 201: jsonReply(Started, 'The run, started') },
    });
    app.openapi(route, async (c) => {
      const { id, version } = await flows.start(name, await bodyOf(c));
      return c.json({ id, workflow: name, version }, 201);
    });
  }
}
