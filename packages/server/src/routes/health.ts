// /health: the process answers. /ready: the database answers and its schema is the one this
// Baton needs. Both are public (load balancers call them without keys) and say nothing else.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createRoute, z } from '@hono/zod-openapi';
import { isBatonError, type Store } from '@baton/core';
import type { ServerEnv } from '../auth.js';
import { jsonReply } from '../route.js';

const Status = z.object({ status: z.string(), problem: z.string().optional() });
const reply = (description: string) => jsonReply(Status, description);

const health = createRoute({
  method: 'get',
  path: '/health',
  summary: 'The process is up',
  security: [],
  responses: { 200: reply('Up') },
});

const ready = createRoute({
  method: 'get',
  path: '/ready',
  summary: 'The database is reachable and migrated',
  security: [],
  responses: { 200: reply('Ready'), 503: reply('Not ready, and why') },
});

export function healthRoutes(app: OpenAPIHono<ServerEnv>, store: Store): void {
  app.openapi(health, (c) => c.json({ status: 'ok' }, 200));
  app.openapi(ready, async (c) => {
    try {
      await store.checkSchema();
      return c.json({ status: 'ready' }, 200);
    } catch (err) {
      // The code only: a message may name the database's location.
      const problem = isBatonError(err) ? err.code : 'E_DATABASE_UNAVAILABLE';
      return c.json({ status: 'not ready', problem }, 503);
    }
  });
}
