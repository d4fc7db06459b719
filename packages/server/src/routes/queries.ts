// Named queries of queries.yaml over HTTP, as the seed's POC served them: GET /api/query/<name>?param=…
// Parameters arrive as text and are converted to each one's declared type, then bound: a value is
// data, never SQL.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { BatonError } from '@baton/core';
import type { ServerEnv } from '../auth.js';
import type { ServerConfig } from '../config-state.js';
import { apiRoute, jsonReply } from '../route.js';

const ParamSchema = z.object({
  name: z.string(),
  type: z.string(),
  required: z.boolean(),
  default: z.unknown().optional(),
  description: z.string().optional(),
});

const QueryInfoSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    datasource: z.string(),
    params: z.array(ParamSchema),
    cacheTtl: z.number().openapi({ description: 'seconds a result is cached (0: not cached)' }),
  })
  .openapi('NamedQuery');

const ResultSchema = z
  .object({
    query: z.string(),
    results: z.array(z.record(z.string(), z.unknown())),
    count: z.number(),
    truncated: z.boolean().optional(),
    cached: z.boolean().optional(),
  })
  .openapi('QueryResult');

const list = apiRoute('viewer', {
  method: 'get',
  path: '/api/queries',
  summary: 'The named queries of queries.yaml, with their typed parameters',
  responses: { 200: jsonReply(z.object({ items: z.array(QueryInfoSchema) }), 'Every query') },
});

const run = apiRoute('viewer', {
  method: 'get',
  path: '/api/query/{name}',
  summary: 'Run a named query; each query-string parameter is one of its params (lists comma-separated)',
  request: { params: z.object({ name: z.string().min(1).max(200) }) },
  responses: { 200: jsonReply(ResultSchema, 'The rows') },
});

export function noConfig(): BatonError {
  return new BatonError(
    'E_NOT_FOUND',
    'this server runs without a configuration directory: start it with --config-dir (or BATON_CONFIG_DIR) to serve named queries and configuration',
  );
}

export function queryRoutes(app: OpenAPIHono<ServerEnv>, config: ServerConfig | undefined): void {
  app.openapi(list, (c) => {
    if (!config) throw noConfig();
    const items = config.queries.list().map((q) => ({
      name: q.name,
      description: q.description,
      datasource: q.datasource,
      params: q.params.map((p) => ({
        name: p.name,
        type: p.type,
        required: p.required ?? false,
        ...(p.default !== undefined ? { default: p.default } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
      })),
      cacheTtl: q.cache_ttl,
    }));
    return c.json({ items }, 200);
  });

  app.openapi(run, async (c) => {
    if (!config) throw noConfig();
    const params: Record<string, string> = {};
    for (const [key, values] of Object.entries(c.req.queries())) {
      if (values.length > 1)
        throw new BatonError(
          'E_INPUT_INVALID',
          `param '${key}' is given ${values.length} times; give a list as one comma-separated value (${key}=a,b)`,
        );
      params[key] = values[0]!;
    }
    const r = await config.queries.run(c.req.valid('param').name, params);
    return c.json({ ...r, results: [...r.results] }, 200);
  });
}
