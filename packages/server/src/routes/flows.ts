// YAML workflows over HTTP: the list, a dry run (plan), starting a run (operators), answering an approval, and the
// `api` triggers of workflows.yaml (`trigger: { type: api, endpoint: /api/features, method: POST }`),
// each a route that starts a run with the request's JSON body as its input (one a reload adds is
// answered too). Every endpoint is under /api/, so it needs a key as every other route does (the
// configuration refuses one elsewhere).
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { BatonError, Client } from '@baton/core';
import type { Config, Flows } from '@baton/flows';
import { requireRole, type ServerEnv } from '../auth.js';
import { apiRoute, jsonReply } from '../route.js';
import { callerName } from '../keys.js';

/** Answers a request no route matched when it is an api trigger; undefined otherwise. */
export type TriggerFallback = (c: Context<ServerEnv>) => Promise<Response | undefined>;

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
): TriggerFallback | undefined {
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

  if (!flows || !config) return undefined;
  // An api trigger answers with the configuration in force: a route of the configuration the
  // server started with starts whichever workflow now declares it, and one a reload added is found
  // by the fallback below. The OpenAPI document lists the first kind.
  const startTriggered = async (c: Context<ServerEnv>, method: string, path: string) => {
    const name = apiTriggers(config()).get(triggerKey(method, path))?.name;
    if (name === undefined) {
      throw new BatonError(
        'E_NOT_FOUND',
        `no YAML workflow has the api trigger ${method} ${path} any more (the configuration was reloaded)`,
      );
    }
    const { id, version } = await flows.start(name, await bodyOf(c));
    return c.json({ id, workflow: name, version }, 201);
  };
  for (const { name, method, endpoint } of apiTriggers(config()).values()) {
    const route = apiRoute('operator', {
      method: method.toLowerCase() as 'post',
      path: endpoint,
      summary: `Start a run of the YAML workflow '${name}' (its api trigger); the body is its input`,
      request: { body: optionalJson },
      responses: { 201: jsonReply(Started, 'The run, started') },
    });
    app.openapi(route, (c) => startTriggered(c, method, endpoint));
  }
  // Called for a request no route matched (after authentication): an api trigger a reload added.
  return async (c) => {
    if (!apiTriggers(config()).has(triggerKey(c.req.method, c.req.path))) return undefined;
    await requireRole('operator')(c, () => Promise.resolve());
    return startTriggered(c, c.req.method, c.req.path);
  };
}

interface ApiTrigger {
  readonly name: string;
  readonly method: string;
  readonly endpoint: string;
}

const triggerKey = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/** Api triggers by `METHOD path`, per loaded configuration (a reload is a new Config). */
const triggerIndex = new WeakMap<Config, Map<string, ApiTrigger>>();

/** The api triggers of `config`'s YAML workflows, by `METHOD path`. */
function apiTriggers(config: Config): ReadonlyMap<string, ApiTrigger> {
  let index = triggerIndex.get(config);
  if (!index) {
    index = new Map();
    for (const [name, w] of Object.entries(config.value.workflows?.workflows ?? {})) {
      const t = w.trigger;
      if (t?.type !== 'api' || t.endpoint === undefined) continue;
      const method = t.method ?? 'POST';
      index.set(triggerKey(method, t.endpoint), { name, method, endpoint: t.endpoint });
    }
    triggerIndex.set(config, index);
  }
  return index;
}
