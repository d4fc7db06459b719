// GET /metrics: the Prometheus text exposition (a scraper sends a viewer key once keys exist).
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ServerEnv } from '../auth.js';
import type { HttpMetrics } from '../metrics.js';
import { apiRoute } from '../route.js';

const metrics = apiRoute('viewer', {
  method: 'get',
  path: '/metrics',
  summary:
    "Prometheus metrics: requests, their latency, queue depth, executions by status, queues' recent throughput and latency, SLA states",
  responses: {
    200: {
      description: 'The Prometheus text format',
      content: { 'text/plain': { schema: z.string() } },
    },
  },
});

export function metricsRoute(app: OpenAPIHono<ServerEnv>, m: HttpMetrics): void {
  app.openapi(metrics, async (c) =>
    c.text(await m.registry.metrics(), 200, { 'Content-Type': m.registry.contentType }),
  );
}
