// GET /api/me: who the caller is, so a client (the dashboard) shows only what the role allows.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServerEnv } from '../auth.js';
import { ROLES } from '../roles.js';
import { apiRoute, jsonReply } from '../route.js';

const me = apiRoute('viewer', {
  method: 'get',
  path: '/api/me',
  summary: "The caller's role, and the key or token subject it called with",
  responses: {
    200: jsonReply(
      z.object({ role: z.enum(ROLES), keyId: z.string().nullable(), subject: z.string().nullable() }),
      'The caller',
    ),
  },
});

export function meRoute(app: OpenAPIHono<ServerEnv>): void {
  app.openapi(me, (c) => {
    const { role, keyId, subject } = c.get('caller');
    return c.json({ role, keyId: keyId ?? null, subject: subject ?? null }, 200);
  });
}
