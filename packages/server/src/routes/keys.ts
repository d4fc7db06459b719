// API keys over the API (admin only): list, create (the key is in this reply only), revoke.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServerEnv } from '../auth.js';
import type { ApiKeyInfo, ApiKeys } from '../keys.js';
import { ROLES } from '../roles.js';
import { apiRoute, jsonBody, jsonReply } from '../route.js';

const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');

const keyJson = (k: ApiKeyInfo): z.infer<typeof KeySchema> => ({
  ...k,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

const list = apiRoute('admin', {
  method: 'get',
  path: '/api/keys',
  summary: 'API keys (never their secrets)',
  responses: { 200: jsonReply(z.object({ items: z.array(KeySchema) }), 'Every key, revoked ones included') },
});

const create = apiRoute('admin', {
  method: 'post',
  path: '/api/keys',
  summary: 'Create an API key; the reply is the only place its text appears',
  request: {
    body: jsonBody(z.object({ role: z.enum(ROLES), name: z.string().max(200).default('') }).strict()),
  },
  responses: { 201: jsonReply(z.object({ key: z.string(), info: KeySchema }), 'The new key') },
});

const revoke = apiRoute('admin', {
  method: 'delete',
  path: '/api/keys/{id}',
  summary: 'Revoke an API key at once',
  request: {
    params: z.object({
      id: z
        .string()
        .min(1)
        .max(100)
        .openapi({ param: { name: 'id', in: 'path' } }),
    }),
  },
  responses: { 200: jsonReply(KeySchema, 'The revoked key') },
});

export function keyRoutes(app: OpenAPIHono<ServerEnv>, keys: ApiKeys): void {
  app.openapi(list, async (c) => c.json({ items: (await keys.list()).map(keyJson) }, 200));
  app.openapi(create, async (c) => {
    const b = c.req.valid('json');
    const made = await keys.create(b.role, b.name);
    return c.json({ key: made.key, info: keyJson(made.info) }, 201);
  });
  app.openapi(revoke, async (c) => c.json(keyJson(await keys.revoke(c.req.valid('param').id)), 200));
}
